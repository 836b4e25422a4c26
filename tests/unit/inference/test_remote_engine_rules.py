"""Engine rules for remote policies: stale actions never sent, blend splice, queue-dry pause, defaults."""

from __future__ import annotations

import numpy as np
import pytest
from inference_fakes import ClockPolicy, observation
from rollout_console.inference.rtc import QueueDryError, RTCInferenceEngine
from rollout_console.inference.splice import blend_overlap, first_timely_row


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ServedClockPolicy(ClockPolicy):
    """A ClockPolicy that says it is remote (``server``) and reports a settable connection state."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.server = "ws://gpu-box:8000"
        self.state = "streaming"

    def connection_status(self) -> dict:
        return {"state": self.state, "server": self.server, "last_error": "connection refused"}


def test_first_timely_row() -> None:
    assert first_timely_row(0, origin=0.0, now=0.0, fps=10, max_age_s=0.15) == 0
    assert first_timely_row(3, origin=0.0, now=0.1, fps=10, max_age_s=0.15) == 3
    # at t=1.0 rows due before 0.85 s are late: rows 0..8; row 9 (due 0.9) is on time
    assert first_timely_row(1, origin=0.0, now=1.0, fps=10, max_age_s=0.15) == 9
    assert first_timely_row(1, origin=0.0, now=1.05, fps=10, max_age_s=0.15) == 9  # exactly max_age late: ok
    assert first_timely_row(1, origin=0.0, now=100.0, fps=10, max_age_s=None) == 1


def test_blend_overlap_fades_the_old_plan_out() -> None:
    new = np.full((10, 2), 10.0, dtype=np.float32)
    old_rest = np.zeros((6, 2), dtype=np.float32)
    out = blend_overlap(new, start=2, old_rest=old_rest, rows=4)
    np.testing.assert_allclose(out[:2, 0], [10, 10])  # before the splice row: untouched
    np.testing.assert_allclose(out[2:6, 0], [10 * (1 - w) for w in (4 / 5, 3 / 5, 2 / 5, 1 / 5)], rtol=1e-6)
    np.testing.assert_allclose(out[6:, 0], 10)
    assert np.all(new == 10.0)  # input untouched
    np.testing.assert_allclose(blend_overlap(new, 2, old_rest[:0], 4), new)  # no overlap: nothing to blend


def test_a_late_tick_skips_stale_rows_instead_of_sending_them() -> None:
    clock = FakeClock()
    policy = ClockPolicy(chunk_size=50, gated=True)
    engine = RTCInferenceEngine(policy, fps=10, queue_threshold=5, guidance=False, max_action_age_s=0.15,
                                clock=clock)
    engine.start()
    try:
        assert engine.next_action(observation(-1.0)) is None  # waiting; request filed at t=0
        policy.release()
        assert engine.wait_idle(10)
        clock.now = 0.1
        first = engine.next_action(observation(-1.0))
        assert first is not None and first[0] == 0.0  # row 0 due at 0.0, 0.1 s late: on time
        clock.now = 1.0  # the loop hiccuped for 0.9 s
        late = engine.next_action(observation(0.0))
        assert late is not None and late[0] == 9.0  # rows 1..8 were late by more than 150 ms
        status = engine.status()
        assert status["stale_skipped"] == 8 and status["max_action_age_ms"] == pytest.approx(150)
    finally:
        engine.stop()


def test_a_first_chunk_that_arrives_late_starts_at_row_zero_when_the_robot_held_still() -> None:
    clock = FakeClock()
    policy = ClockPolicy(chunk_size=50, gated=True)
    engine = RTCInferenceEngine(policy, fps=10, queue_threshold=5, guidance=False, max_action_age_s=0.15,
                                clock=clock)
    engine.start()
    try:
        assert engine.next_action(observation(-1.0)) is None  # request at t=0; the robot holds
        clock.now = 0.5  # a 500 ms round trip
        policy.release()
        assert engine.wait_idle(10)
        clock.now = 0.55
        first = engine.next_action(observation(-1.0))
        assert first is not None and first[0] == 0.0 and engine.status()["stale_skipped"] == 0
    finally:
        engine.stop()


def test_without_max_age_nothing_is_skipped() -> None:
    clock = FakeClock()
    policy = ClockPolicy(chunk_size=50, gated=True)
    engine = RTCInferenceEngine(policy, fps=10, queue_threshold=5, guidance=False, clock=clock)
    engine.start()
    try:
        engine.next_action(observation(-1.0))
        policy.release()
        assert engine.wait_idle(10)
        clock.now = 5.0
        assert engine.next_action(observation(-1.0))[0] == 0.0
        assert engine.status()["stale_skipped"] == 0
    finally:
        engine.stop()


def test_remote_queue_dry_raises_naming_the_server_and_unreachable_blocks_the_first_chunk() -> None:
    clock = FakeClock()
    policy = ServedClockPolicy(chunk_size=3, gated=True)
    engine = RTCInferenceEngine(policy, fps=10, queue_threshold=0, guidance=False, clock=clock)
    engine.start()
    try:
        engine.next_action(observation(-1.0))
        policy.release()
        assert engine.wait_idle(10)
        for _ in range(3):
            assert engine.next_action(observation(0.0)) is not None
        policy.state = "stalled"
        with pytest.raises(QueueDryError, match="ws://gpu-box:8000") as info:
            engine.next_action(observation(2.0))
        assert "ran dry" in str(info.value) and "stalled" in str(info.value)
        engine.reset()
        policy.state = "reconnecting"
        with pytest.raises(QueueDryError, match="unreachable"):
            engine.next_action(observation(2.0))
        policy.state = "streaming"
        assert engine.next_action(observation(2.0)) is None  # waiting for the first chunk is fine
        assert engine.status()["connection"]["state"] == "streaming"
    finally:
        policy.release()
        policy.release()
        engine.stop()


def test_a_local_policy_that_runs_dry_only_counts_starved_ticks() -> None:
    clock = FakeClock()
    policy = ClockPolicy(chunk_size=2, gated=True)
    engine = RTCInferenceEngine(policy, fps=10, queue_threshold=0, guidance=False, clock=clock)
    engine.start()
    try:
        engine.next_action(observation(-1.0))
        policy.release()
        assert engine.wait_idle(10)
        engine.next_action(observation(-1.0))
        engine.next_action(observation(0.0))
        assert engine.next_action(observation(1.0)) is None
        assert engine.status()["starved_ticks"] >= 1 and "connection" not in engine.status()
    finally:
        for _ in range(3):
            policy.release()
        engine.stop()


def test_a_fatal_error_fails_at_once() -> None:
    from rollout_console.errors import InferenceError

    class WrongShape(InferenceError):
        fatal = True

    class Broken(ClockPolicy):
        def predict_chunk(self, observation):
            raise WrongShape("returned actions of shape (20, 7)")

    engine = RTCInferenceEngine(Broken(), fps=10, guidance=False, max_consecutive_errors=50, error_backoff_s=0.0)
    engine.start()
    try:
        engine.next_action(observation(-1.0))
        assert engine.wait_idle(10)
        with pytest.raises(InferenceError, match=r"\(20, 7\)"):
            engine.next_action(observation(-1.0))
    finally:
        engine.stop()
