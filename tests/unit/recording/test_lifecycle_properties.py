"""Property tests of the recorder's episode state machine (``EpisodeLifecycle``).

Any sequence of starts, frames at any backlog, saves, discards and closes keeps the invariants the
recorder relies on; the only exception any call may raise is ``RecordingError`` with a reason.
"""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from rollout_console.errors import RecordingError
from rollout_console.recording.episode_lifecycle import (
    EpisodeLifecycle,
    FrameDecision,
    LifecycleState,
    SaveDecision,
)

MAX_BACKLOG = 6
RESUME_BACKLOG = 3


class LifecycleMachine(RuleBasedStateMachine):
    """Mirrors what the recorder does with each decision and checks that no frame is unaccounted for."""

    def __init__(self) -> None:
        super().__init__()
        self.life = EpisodeLifecycle(MAX_BACKLOG, RESUME_BACKLOG)
        self.current = 0  # frames in the open episode, as the recorder would count them
        self.saved: list[tuple[int, bool]] = []  # (frames, cut) of every episode submitted for saving
        self.discarded = 0
        self.dropped = 0
        self.cut_labelable: int | None = None  # index in saved of the cut episode a save may still label

    @rule(prefix=st.integers(0, 5))
    def start(self, prefix: int) -> None:
        was = self.life.state
        try:
            self.life.start(prefix)
        except RecordingError:
            assert was in (LifecycleState.RECORDING, LifecycleState.CLOSED)
            return
        assert was is not LifecycleState.RECORDING
        self.current = prefix
        self.cut_labelable = None

    @rule(backlog=st.integers(0, MAX_BACKLOG + 3))
    def frame(self, backlog: int) -> None:
        was = self.life.state
        try:
            decision = self.life.frame(backlog)
        except RecordingError:
            assert was in (LifecycleState.IDLE, LifecycleState.CLOSED)
            return
        if decision is FrameDecision.RECORD:
            assert was is LifecycleState.RECORDING and backlog < MAX_BACKLOG
            self.current += 1
        elif decision is FrameDecision.CUT:
            assert was is LifecycleState.RECORDING and backlog >= MAX_BACKLOG
            if self.current > 0:  # a cut with frames is always kept, whatever its length
                self.saved.append((self.current, True))
                self.cut_labelable = len(self.saved) - 1
            else:
                self.cut_labelable = None
            self.current = 0
            self.dropped += 1
        elif decision is FrameDecision.DROP:
            assert was is LifecycleState.DROPPING and backlog > RESUME_BACKLOG
            self.dropped += 1
        else:
            assert decision is FrameDecision.RESTART
            assert was is LifecycleState.DROPPING and backlog <= RESUME_BACKLOG
            self.current = 1
            self.cut_labelable = None

    @rule()
    def save(self) -> None:
        was = self.life.state
        try:
            decision = self.life.save()
        except RecordingError as exc:
            assert str(exc)  # always a reason
            if was is LifecycleState.RECORDING:
                assert self.current == 0
                self.current = 0
            elif was is LifecycleState.DROPPING:
                assert self.cut_labelable is None
            self.cut_labelable = None
            return
        if decision is SaveDecision.CURRENT:
            assert was is LifecycleState.RECORDING and self.current > 0
            self.saved.append((self.current, False))
            self.current = 0
        else:
            assert decision is SaveDecision.CUT and was is LifecycleState.DROPPING
            assert self.cut_labelable is not None and self.saved[self.cut_labelable][1]
        self.cut_labelable = None

    @rule()
    def discard(self) -> None:
        was = self.life.state
        try:
            frames = self.life.discard()
        except RecordingError:
            assert was is LifecycleState.CLOSED
            return
        if was is LifecycleState.RECORDING:
            assert frames == self.current
            self.discarded += self.current
        else:
            assert frames is None
        self.current = 0
        self.cut_labelable = None

    @precondition(lambda self: self.life.state is not LifecycleState.CLOSED)
    @rule()
    def close(self) -> None:
        if self.life.state is LifecycleState.RECORDING:
            try:
                self.life.close()
            except RecordingError:
                return
            raise AssertionError("closing with an open episode would lose its frames")
        self.life.close()
        self.current = 0
        self.cut_labelable = None

    @invariant()
    def frames_match_the_open_episode(self) -> None:
        if self.life.state is LifecycleState.RECORDING:
            assert self.life.frames == self.current
        else:
            assert self.life.frames == 0

    @invariant()
    def every_frame_is_accounted_for(self) -> None:
        kept = sum(frames for frames, _ in self.saved)
        assert self.life.counts.accepted == kept + self.discarded + self.current
        assert self.life.dropped_total == self.dropped

    @invariant()
    def a_label_only_targets_a_kept_cut(self) -> None:
        assert self.life.cut_pending == (self.life.state is LifecycleState.DROPPING and self.cut_labelable is not None)

    @invariant()
    def drop_reports_wait_for_the_end_of_a_stretch(self) -> None:
        if self.life.state is LifecycleState.DROPPING:
            assert self.life.take_drop_run() == 0


TestLifecycle = LifecycleMachine.TestCase
TestLifecycle.settings = settings(max_examples=150, stateful_step_count=40, deadline=None, derandomize=True)


def test_backlog_limits_are_checked() -> None:
    for bad in ((0, 0), (3, 3), (3, -1)):
        try:
            EpisodeLifecycle(*bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")
