"""Property tests: any sequence of commands and ticks keeps the DAgger state machine's invariants."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rollout_console.protocol.commands import COMMAND_NAMES, Command
from rollout_console.protocol.phases import Phase
from rollout_console.strategies.dagger import DAGGER_TRANSITIONS, RECORDS, DaggerStrategy
from rollout_console.strategies.recording import Recording
from strategy_fakes import FakeRecorder, make_context

P = Phase
ACTIONS = st.one_of(
    st.just(("tick", None)),
    st.tuples(st.just("command"), st.sampled_from(COMMAND_NAMES)),
    st.tuples(st.just("save_with"), st.sampled_from(["success", "failure", "maybe"])),
)


def _session(mode: str, num_episodes: int = 1000):
    ctx, robot, leader, engine = make_context(
        "--strategy.type=dagger", "--dataset.repo_id=t/x", f"--strategy.record={mode}",
        f"--strategy.num_episodes={num_episodes}", "--dataset.push_to_hub=false", "--teleop.handover=none",
        "--return_to_initial_position=false",
    )
    recorder = FakeRecorder()
    recording = Recording(recorder, None, ctx.layout, ctx.events, "task", 0, intervention=True)
    strategy = DaggerStrategy(ctx.config.strategy, recording, ctx.config.fps)
    ctx.started_at = time.perf_counter()
    return ctx, robot, leader, engine, recorder, strategy


def _tick(ctx, strategy, index: int) -> None:
    ctx.tick = index
    ctx.now = time.perf_counter()
    strategy.tick(ctx)


@settings(max_examples=150, deadline=None)
@given(mode=st.sampled_from(["corrections", "continuous", "attempt"]), steps=st.lists(ACTIONS, max_size=60))
def test_any_sequence_keeps_the_invariants(mode, steps) -> None:
    ctx, robot, leader, engine, recorder, strategy = _session(mode)
    _tick(ctx, strategy, 0)  # starting -> autonomous
    assert ctx.phase is P.AUTONOMOUS
    for index, (kind, value) in enumerate(steps, start=1):
        before_phase = ctx.phase
        before = (recorder.open, len(recorder.frames), len(recorder.saved))
        if kind == "tick":
            sends = len(robot.sent)
            _tick(ctx, strategy, index)
            if ctx.phase is P.STOPPED:
                return
            new_frames = recorder.frames[before[1]:] if recorder.open and before[0] else recorder.frames
            recorded_now = len(recorder.frames) != before[1] or len(recorder.saved) != before[2]
            # frames are recorded only in the phases the mode records, tagged with the human's hand
            if recorded_now and recorder.open:
                assert ctx.phase in RECORDS[mode], (mode, ctx.phase)
                assert all(f["intervention"] == (ctx.phase is P.CORRECTING) for f in new_frames[-1:])
            if ctx.phase is P.ESTOPPED:
                assert len(robot.sent) == sends, "estopped: no motion commands"
            if ctx.phase is P.PAUSED and ctx.hold_target is not None and len(robot.sent) > sends:
                assert np.allclose(robot.sent[-1], ctx.hold_target), "paused: only the held position"
            continue
        name = value if kind == "command" else "save"
        args = {} if kind == "command" else {"outcome": value}
        result = strategy.handle(ctx, Command(name, args, source="test"))
        if hasattr(result, "result"):
            result = result.result(timeout=1)
        if not result.accepted:
            assert ctx.phase is before_phase, "a refused command changes nothing"
            assert (recorder.open, len(recorder.saved)) == (before[0], before[2])
            assert result.detail
            continue
        if ctx.phase is not before_phase and name in ("pause", "resume", "takeover", "handback", "stop", "estop",
                                                               "reset"):
            assert DAGGER_TRANSITIONS[(before_phase, name)] is ctx.phase
        if mode == "corrections":
            assert not recorder.open or ctx.phase is P.CORRECTING, "corrections mode records only corrections"
    for episode in recorder.saved:
        flags = {frame["intervention"] for frame in episode}
        if mode == "corrections":
            assert flags == {True}


@settings(max_examples=40, deadline=None)
@given(extra_ticks=st.integers(min_value=1, max_value=8))
def test_save_labels_and_num_episodes_stop_the_session(extra_ticks) -> None:
    ctx, robot, leader, engine, recorder, strategy = _session("attempt", num_episodes=2)
    for i in range(3 + extra_ticks):
        _tick(ctx, strategy, i)
    assert strategy.handle(ctx, Command("save", {"outcome": "success"})).result(1).accepted
    for i in range(extra_ticks):
        _tick(ctx, strategy, 100 + i)
    assert strategy.handle(ctx, Command("save", {"outcome": "failure"})).result(1).accepted
    assert [e["outcome"] for e in recorder.extras] == ["success", "failure"]
    _tick(ctx, strategy, 200)
    assert ctx.phase in (P.STOPPING, P.STOPPED), "num_episodes reached: the session stops"


def test_pause_aligns_the_leader_and_takeover_hands_over_smoothly() -> None:
    ctx, robot, leader, engine, recorder, strategy = _session("corrections")
    ctx.config = ctx.config.model_copy(update={"teleop": ctx.config.teleop.model_copy(update={"handover": "smooth",
                                                                                              "handover_max_s": 0.2})})
    for i in range(5):
        _tick(ctx, strategy, i)
    strategy.handle(ctx, Command("pause"))
    assert leader.aligned_to is not None, "an actuated leader is aligned to the follower on pause"
    leader.q = leader.q + 40.0  # the operator moved the leader far away while paused
    strategy.handle(ctx, Command("takeover"))
    assert strategy.handover is not None and strategy.handover.duration_s <= 0.2
    # ticks on a fake clock at the control rate (the handover follows ctx.now), so a loaded machine
    # cannot turn one late tick into a jump
    steps = []
    now, period = ctx.now, 1.0 / ctx.config.fps
    for index in range(10, 10 + int(0.2 / period) + 2):  # 0.2 s of ticks, plus one
        if strategy.handover is None:
            break
        now += period
        ctx.tick, ctx.now = index, now
        strategy.tick(ctx)
        steps.append(robot.sent[-1].copy())
    assert strategy.handover is None, "the handover ends within its bound"
    assert np.allclose(robot.sent[-1], leader.q, atol=1e-6), "ends exactly on the leader"
    jumps = np.abs(np.diff(np.array(steps), axis=0)).max()
    assert jumps < 40.0 * 0.6, "no jump to the leader in one tick"
