"""EpisodeLifecycle: the recorder's episode state machine, with no threads and no I/O.

The EpisodeRecorder asks it what to do with every call from the control thread and carries the
decision out (queueing frames, submitting saves). Keeping the decisions here, pure, lets property
tests drive any sequence of frames, saves, discards, backlog cuts and encoder errors through the very
code the recorder runs, and check its invariants (see ``tests/unit/recording/test_lifecycle_properties.py``).

States::

    idle ──start──> recording ──save / discard──> idle
                        │
                        └─ backlog >= limit: the episode is cut (saved with ``cut: true`` when it has
                           frames) ──> dropping ── backlog <= resume level: a fresh episode starts by
                           itself ──> recording
                                       dropping ── save / discard / start ──> idle (or recording)

Every method either succeeds or raises ``RecordingError`` with a reason an operator can read; none
relies on an ``assert`` about which state it is called in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..errors import RecordingError

__all__ = ["EpisodeLifecycle", "FrameDecision", "LifecycleState", "SaveDecision"]


class LifecycleState(str, Enum):
    IDLE = "idle"
    RECORDING = "recording"
    DROPPING = "dropping"
    CLOSED = "closed"


class FrameDecision(str, Enum):
    RECORD = "record"  # queue the frame in the current episode
    CUT = "cut"  # the encoders are too far behind: end the episode here (frame dropped)
    DROP = "drop"  # still behind: drop the frame (counted)
    RESTART = "restart"  # caught up: start a fresh episode (same task), then record the frame


class SaveDecision(str, Enum):
    CURRENT = "current"  # submit the episode being recorded
    CUT = "cut"  # label (and hand back) the episode the last backlog cut saved
    NOTHING = "nothing"  # nothing to save (raised as RecordingError by ``save``)


@dataclass
class _Counts:
    accepted: int = 0  # frames queued into any episode
    dropped: int = 0  # frames given up because the encoders were behind
    drop_run: int = 0  # dropped since the last report


class EpisodeLifecycle:
    """Decides, call by call, what the recorder does (see the module docstring)."""

    def __init__(self, max_backlog_frames: int, resume_backlog_frames: int) -> None:
        if max_backlog_frames < 1 or not 0 <= resume_backlog_frames < max_backlog_frames:
            raise ValueError("backlog limits must satisfy 0 <= resume < max and max >= 1")
        self.max_backlog = max_backlog_frames
        self.resume_backlog = resume_backlog_frames
        self.state = LifecycleState.IDLE
        self.frames = 0  # frames in the current episode (prefix included)
        self.cut_pending = False  # the last cut saved an episode that a save may still label
        self.counts = _Counts()

    # ------------------------------------------------------------------ transitions

    def start(self, prefix_frames: int = 0) -> None:
        """A new episode begins (ending a dropping stretch, if one was running)."""
        self._check_open()
        if self.state is LifecycleState.RECORDING:
            raise RecordingError("recorder: an episode is already being recorded; save or discard it first")
        self._leave_dropping()
        self.state = LifecycleState.RECORDING
        self.frames = prefix_frames
        self.counts.accepted += prefix_frames

    def frame(self, backlog_frames: int) -> FrameDecision:
        """One live frame arrives while the encoders are ``backlog_frames`` behind."""
        self._check_open()
        if self.state is LifecycleState.IDLE:
            raise RecordingError("recorder: no episode is being recorded (start_episode first)")
        if self.state is LifecycleState.DROPPING:
            if backlog_frames > self.resume_backlog:
                self._drop()
                return FrameDecision.DROP
            self.state = LifecycleState.RECORDING
            self.cut_pending = False
            self.frames = 0
            self._record()
            return FrameDecision.RESTART
        if backlog_frames >= self.max_backlog:
            self.state = LifecycleState.DROPPING
            self.cut_pending = self.frames > 0
            self.frames = 0
            self.counts.drop_run = 0
            self._drop()
            return FrameDecision.CUT
        self._record()
        return FrameDecision.RECORD

    def undo_frame(self) -> None:
        """The frame just recorded was refused by a check after the decision (bad shape): forget it."""
        if self.state is LifecycleState.RECORDING and self.frames > 0:
            self.frames -= 1
            self.counts.accepted -= 1

    def save(self) -> SaveDecision:
        """What a save means now; the state is idle afterwards. Raises when there is nothing to save."""
        self._check_open()
        if self.state is LifecycleState.DROPPING:
            decision = SaveDecision.CUT if self.cut_pending else SaveDecision.NOTHING
            self._leave_dropping()
            self.state = LifecycleState.IDLE
            if decision is SaveDecision.NOTHING:
                raise RecordingError("recorder: nothing to save: no frame was recorded since the encoders fell "
                                     "behind")
            return decision
        if self.state is not LifecycleState.RECORDING:
            raise RecordingError("recorder: no episode to save")
        if self.frames == 0:
            self.state = LifecycleState.IDLE
            raise RecordingError("recorder: the episode has no frames; nothing to save")
        self.state = LifecycleState.IDLE
        self.frames = 0
        return SaveDecision.CURRENT

    def discard(self) -> int | None:
        """Drop the current episode; returns its frame count, or None when there was none to drop."""
        self._check_open()
        if self.state is LifecycleState.DROPPING:
            self._leave_dropping()
            self.state = LifecycleState.IDLE
            return None
        if self.state is not LifecycleState.RECORDING:
            return None
        frames, self.frames = self.frames, 0
        self.state = LifecycleState.IDLE
        return frames

    def close(self) -> None:
        """No more episodes; the open one must have been saved or discarded first (no frame vanishes)."""
        if self.state is LifecycleState.RECORDING:
            raise RecordingError("recorder: save or discard the episode being recorded before closing")
        self._leave_dropping()
        self.frames = 0
        self.state = LifecycleState.CLOSED

    # ------------------------------------------------------------------ helpers

    def take_drop_run(self) -> int:
        """Frames dropped since the last report, once the dropping stretch is over (0 while it lasts)."""
        if self.state is LifecycleState.DROPPING:
            return 0
        run, self.counts.drop_run = self.counts.drop_run, 0
        return run

    @property
    def dropped_total(self) -> int:
        return self.counts.dropped

    def _record(self) -> None:
        self.frames += 1
        self.counts.accepted += 1

    def _drop(self) -> None:
        self.counts.dropped += 1
        self.counts.drop_run += 1

    def _leave_dropping(self) -> None:
        if self.state is LifecycleState.DROPPING:
            self.cut_pending = False
            self.state = LifecycleState.IDLE

    def _check_open(self) -> None:
        if self.state is LifecycleState.CLOSED:
            raise RecordingError("recorder: closed")
