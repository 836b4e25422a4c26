"""Session command semantics on the sim robot: every command applied at the next tick or refused with a reason."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from helpers import config, wait_until
from rollout_console.protocol.commands import CommandOutcome
from rollout_console.protocol.phases import Phase
from rollout_console.runtime import build_session


@pytest.fixture
def session():
    s = build_session(config("--return_duration_s=0.5"))
    s.start()
    wait_until(lambda: s.phase is Phase.AUTONOMOUS, timeout=60, message="autonomous")
    yield s
    s.shutdown(timeout=30)


def _joints(s) -> np.ndarray:
    obs = s.ctx.observation
    return np.array([obs[k] for k in s.ctx.layout.state_names])


def _let_run(s, ticks: int, seconds: float = 0.0, timeout: float = 60.0) -> None:
    """Wait until the loop has completed ``ticks`` more ticks and at least ``seconds`` have passed.

    The sim's arm moves on wall-clock time, so a settle or observation window needs both: the time
    for the physics, and ticks so that the observation read by the loop is from inside that window
    (on a loaded machine the loop may tick late, never early).
    """
    target = s.loop.stats.ticks + ticks
    not_before = time.monotonic() + seconds
    wait_until(lambda: s.loop.stats.ticks >= target and time.monotonic() >= not_before, timeout=timeout,
               message=f"{ticks} control ticks")


def test_pause_holds_position_and_resume_continues(session) -> None:
    result = session.submit("pause")
    assert result.accepted and result.phase is Phase.PAUSED and session.phase is Phase.PAUSED
    _let_run(session, ticks=3, seconds=0.3)  # let the first-order lag settle on the held goal
    before = _joints(session)
    _let_run(session, ticks=12, seconds=0.4)
    assert np.allclose(before, _joints(session), atol=0.05), "the arm moved while paused"
    result = session.submit("resume")
    assert result.accepted and session.phase is Phase.AUTONOMOUS
    start = _joints(session)
    wait_until(lambda: not np.allclose(start, _joints(session), atol=0.5), timeout=60,
               message="motion after resume")


def test_repeated_commands_are_idempotent(session) -> None:
    assert session.submit("pause").accepted
    again = session.submit("pause")
    assert again.accepted and again.detail == "already paused" and again.phase is Phase.PAUSED
    assert session.submit("resume").accepted
    assert session.submit("resume").detail == "already running"


def test_invalid_and_unknown_commands_are_refused_with_a_reason(session) -> None:
    takeover = session.submit("takeover")
    assert not takeover.accepted and takeover.outcome == CommandOutcome.INVALID_NOW and "base strategy" in takeover.detail
    unknown = session.submit("teleport")
    assert not unknown.accepted and unknown.outcome == CommandOutcome.UNKNOWN
    assert session.phase is Phase.AUTONOMOUS


def _settled(s, atol: float = 0.02, timeout: float = 60.0) -> None:
    """Wait until the arm's first-order lag has settled (a loaded machine may stretch it past a fixed time)."""
    def still() -> bool:
        before = _joints(s)
        _let_run(s, ticks=3, seconds=0.1)
        return bool(np.allclose(before, _joints(s), atol=atol))
    wait_until(still, timeout=timeout, message="the arm to settle")


def test_estop_stops_motion_until_an_explicit_resume(session) -> None:
    assert session.submit("estop").phase is Phase.ESTOPPED
    _settled(session)  # a policy still driving the arm would never settle
    before = _joints(session)
    _let_run(session, ticks=12, seconds=0.4)
    assert np.allclose(before, _joints(session), atol=0.05)
    assert not session.submit("pause").accepted  # only reset or stop leave an estop
    refused = session.submit("resume")
    assert (refused.accepted, refused.phase, refused.detail) == (False, Phase.ESTOPPED, "clear the E-STOP first (reset)")
    assert session.submit("reset").phase is Phase.PAUSED  # cleared: it holds where it is
    _let_run(session, ticks=12, seconds=0.4)
    assert np.allclose(before, _joints(session), atol=0.05)
    assert session.submit("resume").phase is Phase.AUTONOMOUS


def test_stop_after_estop_does_not_move_home(session) -> None:
    session.submit("estop")
    _let_run(session, ticks=3, seconds=0.2)
    held = _joints(session)
    result = session.submit("stop")
    # stopping finishes in place (no return home), and reads stopped only once nothing is pending
    assert result.accepted and result.phase is Phase.STOPPING
    assert session.wait_finished(60)
    assert session.phase is Phase.STOPPED
    assert np.allclose(held, _joints(session), atol=0.5)


def test_stop_returns_home_then_refuses_commands(session) -> None:
    home = session.ctx.initial_position.copy()
    # move well away from the start pose first, so arriving home is something the stop did
    wait_until(lambda: np.abs(_joints(session) - home).max() > 10 * 1.5, timeout=60,
               message="moved away from home")
    assert session.submit("stop").phase is Phase.STOPPING
    assert session.wait_finished(60)
    assert session.phase is Phase.STOPPED
    assert np.allclose(_joints(session), home, atol=1.5)
    late = session.submit("pause")
    assert not late.accepted and "stopped" in late.detail


def test_events_are_numbered_and_describe_phase_changes(session) -> None:
    first = session.events.last_seq
    session.submit("pause")
    session.submit("resume")
    events = session.events.since(first)
    assert [e.seq for e in events] == list(range(first + 1, first + 1 + len(events)))
    phases = [(e.data["previous"], e.data["phase"]) for e in events if e.kind == "phase_changed"]
    assert phases == [("autonomous", "paused"), ("paused", "autonomous")]
    commands = [e.data["name"] for e in events if e.kind == "command"]
    assert commands == ["pause", "resume"]


def test_status_snapshot_has_the_documented_fields(session) -> None:
    wait_until(lambda: session.status()["loop"]["measured_hz"], timeout=60, message="loop rate")
    status = session.status()
    assert status["strategy"] == "base" and status["phase"] == "autonomous" and status["fps"] == 30
    assert set(status["loop"]) >= {"measured_hz", "lateness_ms", "overruns", "ticks"}
    assert set(status["loop"]["lateness_ms"]) == {"p50", "p99", "max"}
    assert set(status["robot"]["joints"]) == {f"{j}.pos" for j in
                                              ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex",
                                               "wrist_roll", "gripper")}
    assert set(status["cameras"]) == {"front", "top"}
    assert set(status["cameras"]["front"]) >= {"fps", "age_ms", "width", "height"}
    assert status["policy"]["name"] == "scripted_expert" and set(status["policy"]["latency_ms"]) == {"p50", "p95"}
    assert status["error"] is None and "pause" in status["available_commands"]


def test_stale_camera_pauses_the_policy_with_a_notice() -> None:
    s = build_session(config("--loop.max_observation_age_ms=1000"))
    s.start()
    try:
        wait_until(lambda: s.phase is Phase.AUTONOMOUS, timeout=60)
        s.cameras["front"].stop()  # the camera dies: its frame ages
        wait_until(lambda: s.phase is Phase.PAUSED, timeout=60, message="pause on stale camera")
        assert "stale camera" in s.status()["notice"] and "front" in s.status()["notice"]
    finally:
        s.shutdown(timeout=30)


def test_duration_stops_the_session_by_itself() -> None:
    s = build_session(config("--duration=0.5", "--return_duration_s=0.3"))
    s.start()
    assert s.wait_finished(60)
    assert s.phase is Phase.STOPPED


class _GatedPolicy:
    """Wraps a policy so that its first inference blocks until the test releases it (a slow model
    whose slowness does not depend on the machine's load)."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict_chunk(self, observation):  # noqa: ANN001, ANN201
        self.entered.set()
        assert self.release.wait(60), "the test never released the inference"
        return self.inner.predict_chunk(observation)

    def __getattr__(self, item: str):  # noqa: ANN204
        return getattr(self.inner, item)


def test_command_not_applied_in_time_is_withdrawn() -> None:
    # a policy slower than the command timeout blocks the loop (sync engine): the command is withdrawn
    s = build_session(config("--loop.command_timeout_s=0.3", "--return_to_initial_position=false"))
    gated = _GatedPolicy(s.ctx.engine.policy)
    s.ctx.engine.policy = gated
    s.start()
    try:
        assert gated.entered.wait(60), "the first tick never reached the inference"
        result = s.submit("pause")  # the loop is inside the inference until released
        assert not result.accepted and result.outcome == CommandOutcome.TIMED_OUT and "not applied" in result.detail
        gated.release.set()
        # the next tick applies whatever is queued: once it has run, the pause must not have been applied
        wait_until(lambda: s.loop.stats.ticks >= 2, timeout=60, message="ticks after the slow inference")
        assert s.phase is Phase.AUTONOMOUS, "a withdrawn command must never be applied later"
    finally:
        gated.release.set()
        s.shutdown(timeout=30)
