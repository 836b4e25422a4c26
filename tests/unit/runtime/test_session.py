"""Session command semantics on the sim robot: every command applied at the next tick or refused with a reason."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers import config, wait_until
from rollout_console.runtime import Phase, build_session


@pytest.fixture
def session():
    s = build_session(config("--return_duration_s=0.5"))
    s.start()
    wait_until(lambda: s.phase is Phase.AUTONOMOUS, message="autonomous")
    yield s
    s.shutdown(timeout=10)


def _joints(s) -> np.ndarray:
    obs = s.ctx.observation
    return np.array([obs[k] for k in s.ctx.layout.state_names])


def test_pause_holds_position_and_resume_continues(session) -> None:
    result = session.submit("pause")
    assert result.accepted and result.phase is Phase.PAUSED and session.phase is Phase.PAUSED
    time.sleep(0.3)  # let the first-order lag settle on the held goal
    before = _joints(session)
    time.sleep(0.4)
    assert np.allclose(before, _joints(session), atol=0.05), "the arm moved while paused"
    result = session.submit("resume")
    assert result.accepted and session.phase is Phase.AUTONOMOUS
    start = _joints(session)
    wait_until(lambda: not np.allclose(start, _joints(session), atol=0.5), message="motion after resume")


def test_repeated_commands_are_idempotent(session) -> None:
    assert session.submit("pause").accepted
    again = session.submit("pause")
    assert again.accepted and again.detail == "already paused" and again.phase is Phase.PAUSED
    assert session.submit("resume").accepted
    assert session.submit("resume").detail == "already running"


def test_invalid_and_unknown_commands_are_refused_with_a_reason(session) -> None:
    takeover = session.submit("takeover")
    assert not takeover.accepted and takeover.status == 409 and "base strategy" in takeover.detail
    unknown = session.submit("teleport")
    assert not unknown.accepted and unknown.status == 404
    assert session.phase is Phase.AUTONOMOUS


def test_estop_stops_motion_until_an_explicit_resume(session) -> None:
    assert session.submit("estop").phase is Phase.ESTOPPED
    time.sleep(0.3)
    before = _joints(session)
    time.sleep(0.4)
    assert np.allclose(before, _joints(session), atol=0.05)
    assert not session.submit("pause").accepted  # only resume or stop leave an estop
    assert session.submit("resume").phase is Phase.AUTONOMOUS


def test_stop_after_estop_does_not_move_home(session) -> None:
    session.submit("estop")
    time.sleep(0.2)
    held = _joints(session)
    result = session.submit("stop")
    # stopping finishes in place (no return home), and reads stopped only once nothing is pending
    assert result.accepted and result.phase is Phase.STOPPING
    assert session.wait_finished(30)
    assert session.phase is Phase.STOPPED
    assert np.allclose(held, _joints(session), atol=0.5)


def test_stop_returns_home_then_refuses_commands(session) -> None:
    time.sleep(1.0)  # move away from the start pose
    home = session.ctx.initial_position.copy()
    assert session.submit("stop").phase is Phase.STOPPING
    assert session.wait_finished(10)
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
    wait_until(lambda: session.status()["loop"]["measured_hz"], message="loop rate")
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
        wait_until(lambda: s.phase is Phase.AUTONOMOUS)
        s.cameras["front"].stop()  # the camera dies: its frame ages
        wait_until(lambda: s.phase is Phase.PAUSED, timeout=5, message="pause on stale camera")
        assert "stale camera" in s.status()["notice"] and "front" in s.status()["notice"]
    finally:
        s.shutdown(timeout=10)


def test_duration_stops_the_session_by_itself() -> None:
    s = build_session(config("--duration=0.5", "--return_duration_s=0.3"))
    s.start()
    assert s.wait_finished(10)
    assert s.phase is Phase.STOPPED


def test_command_not_applied_in_time_is_withdrawn() -> None:
    # a policy slower than the command timeout blocks the loop (sync engine): the command is withdrawn
    s = build_session(config("--inference.simulated_latency_ms=1500", "--loop.command_timeout_s=0.3",
                             "--return_to_initial_position=false"))
    s.start()
    try:
        time.sleep(0.1)  # the first tick is inside its 1.5 s inference now
        result = s.submit("pause")
        assert not result.accepted and result.status == 503 and "not applied" in result.detail
        time.sleep(1.6)
        assert s.phase is Phase.AUTONOMOUS, "a withdrawn command must never be applied later"
    finally:
        s.shutdown(timeout=15)
