"""RTCInferenceEngine: splicing by consumed count, starvation, reset, errors, status, real threads."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers import wait_until
from inference_fakes import ClockPolicy, GuidedClockPolicy, observation

from rollout_console.errors import ConfigError, InferenceError
from rollout_console.inference.rtc import RTCInferenceEngine
from rollout_console.policies.latency import SlowedPolicy


def drive(engine: RTCInferenceEngine, policy: ClockPolicy, latencies: list[int], ticks: int) -> list[float | None]:
    """Tick ``engine``; the i-th inference completes ``latencies[i % len]`` ticks after its request.

    The fake robot's state is the last executed action (held on a tick without one).
    """
    executed: list[float | None] = []
    last = -1.0
    pending_since: int | None = None
    completed = 0
    for tick in range(ticks):
        action = engine.next_action(observation(last))
        if action is not None:
            assert np.all(action == action[0])
            last = float(action[0])
        executed.append(None if action is None else last)
        if pending_since is None and engine.busy:
            pending_since = tick
        if pending_since is not None and tick - pending_since >= latencies[completed % len(latencies)]:
            policy.release()
            assert engine.wait_idle(30.0)
            pending_since = None
            completed += 1
    return executed


def assert_counts_up(executed: list[float | None]) -> list[float]:
    values = [v for v in executed if v is not None]
    assert values == [float(i) for i in range(len(values))], "an action was skipped or repeated"
    return values


@pytest.fixture
def engine_factory():  # noqa: ANN201
    engines: list[tuple[RTCInferenceEngine, ClockPolicy]] = []

    def make(policy: ClockPolicy, **kwargs: object) -> RTCInferenceEngine:
        engine = RTCInferenceEngine(policy, fps=30.0, error_backoff_s=0.0, **kwargs)  # type: ignore[arg-type]
        engine.start()
        engines.append((engine, policy))
        return engine

    yield make
    for engine, policy in engines:
        for _ in range(3):  # unblock a gated call still in flight so the thread can exit
            policy.release()
        engine.stop()
        assert not engine.ready


def test_every_row_executes_once_for_any_latency_that_fits(engine_factory) -> None:  # noqa: ANN001
    policy = GuidedClockPolicy(gated=True)
    engine = engine_factory(policy, queue_threshold=30)
    rng = np.random.default_rng(0)
    latencies = [int(v) for v in rng.integers(0, 25, size=40)]  # d = L + 1 <= H / 2: real-time
    executed = drive(engine, policy, latencies, 800)
    values = assert_counts_up(executed)
    status = engine.status()
    assert status["starved_ticks"] == 0
    assert status["waiting_ticks"] == latencies[0] + 1  # the first chunk: nothing to execute before it
    assert executed[: latencies[0] + 1] == [None] * (latencies[0] + 1) and values[0] == 0.0
    guided = [c for c in policy.calls if c["guided"]]
    assert len(guided) == len(policy.calls) - 1 and not policy.calls[0]["guided"]  # first chunk: no prefix
    for call in guided:
        prefix = call["prefix"][:, 0]
        # the prefix starts at the row executed at the observation's tick = the new chunk's row 0
        assert prefix[0] == call["obs"] + 1
        np.testing.assert_array_equal(prefix, prefix[0] + np.arange(len(prefix)))
        assert 1 <= len(prefix) <= 31  # the real rows only (threshold + the tick's own row), never padded
        assert call["delay"] >= 1 and call["schedule"] == "LINEAR" and call["beta"] == 10
        # the guided region ends at the configured horizon, or just past the delay when that reaches it
        assert call["horizon"] == max(10, call["delay"] + 1)
    assert any(call["horizon"] > 10 for call in guided)
    # every splice continues the executed sequence: the jump equals an ordinary step
    assert status["boundary_jump"]["max"] == pytest.approx(1.0)
    assert status["step_change_p50"] == pytest.approx(1.0)


def test_delay_given_to_the_policy_is_the_windowed_max_of_observed_delays(engine_factory) -> None:  # noqa: ANN001
    policy = GuidedClockPolicy(gated=True)
    engine = engine_factory(policy, queue_threshold=30, delay_window=3)
    latencies = [0, 4, 2, 9, 1, 1, 1, 1, 1, 1]  # the first (cold) inference is warm-up: not recorded
    drive(engine, policy, latencies, 400)
    delays = [c["delay"] for c in policy.calls if c["guided"]]
    observed = [latency + 1 for latency in latencies]  # ticks from request to splice, plus the request tick
    # call i (i >= 1) sees the observations of calls 1..i-1 (call 0 was warm-up)
    for i, delay in enumerate(delays[:9], start=1):
        window = observed[max(1, i - 3):i]
        expected = max(window) if window else observed[0]
        assert delay == expected, (i, delays)
    assert engine.status()["delay_ticks"] == 2  # the 9-tick spike has left the 3-inference window
    horizons = [c["horizon"] for c in policy.calls if c["guided"]]
    assert horizons == [max(10, d + 1) for d in delays] and 10 in horizons


def test_starvation_holds_without_skipping_and_is_counted(engine_factory) -> None:  # noqa: ANN001
    policy = GuidedClockPolicy(gated=True)
    engine = engine_factory(policy, queue_threshold=30)
    latencies = [40, 26, 33, 45, 28]
    executed = drive(engine, policy, latencies, 600)
    assert_counts_up(executed)
    first = next(i for i, v in enumerate(executed) if v is not None)
    holes = sum(v is None for v in executed[first:])
    status = engine.status()
    assert holes > 0 and status["starved_ticks"] == holes
    assert status["waiting_ticks"] == first
    # after starvation the prefix is shorter than the delay: the policy got only the real rows
    short = [c for c in policy.calls if c["guided"] and len(c["prefix"]) < c["delay"]]
    assert short


def test_naive_async_works_with_any_policy_and_splices_by_consumed_count(engine_factory) -> None:  # noqa: ANN001
    policy = ClockPolicy(gated=True)
    engine = engine_factory(policy, guidance=False, queue_threshold=30)
    executed = drive(engine, policy, [3, 12, 0, 20, 7], 500)
    assert_counts_up(executed)
    assert engine.status()["mode"] == "naive" and engine.status()["starved_ticks"] == 0
    assert not any(call["guided"] for call in policy.calls)


def test_a_policy_that_cannot_be_guided_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        RTCInferenceEngine(ClockPolicy())
    assert info.value.flag == "--inference.type"
    assert "--inference.type=sync" in str(info.value) and "builtin:sim_flow" in str(info.value)
    # a slowed plain policy stays plain, so it is refused too
    with pytest.raises(ConfigError):
        RTCInferenceEngine(SlowedPolicy(ClockPolicy(), 10))


def test_reset_discards_a_chunk_computed_before_it(engine_factory) -> None:  # noqa: ANN001
    policy = GuidedClockPolicy(gated=True)
    engine = engine_factory(policy)
    assert engine.next_action(observation(-1)) is None
    assert engine.busy
    wait_until(lambda: policy.started > 0, timeout=30, interval=0.001, message="the inference running")
    engine.reset()
    policy.release()
    assert engine.wait_idle(30.0)
    assert engine.status()["discarded_chunks"] == 1
    assert engine.next_action(observation(-1)) is None  # nothing from the stale chunk
    policy.release()
    assert engine.wait_idle(30.0)
    assert policy.resets == 1  # the policy is reset on the inference thread, before its next call
    action = engine.next_action(observation(-1))
    assert action is not None and action[0] == 0.0


def test_pause_starts_no_inference_and_resume_does(engine_factory) -> None:  # noqa: ANN001
    policy = GuidedClockPolicy()
    engine = engine_factory(policy)
    engine.pause()
    for _ in range(5):
        assert engine.next_action(observation(-1)) is None
    assert policy.started == 0 and not engine.busy
    engine.resume()
    engine.next_action(observation(-1))
    assert engine.wait_idle(30.0) and policy.started == 1


def test_repeated_errors_raise_inference_error_until_reset(engine_factory) -> None:  # noqa: ANN001
    policy = GuidedClockPolicy()
    engine = engine_factory(policy, max_consecutive_errors=3)
    policy.fail_next = 2  # fewer than the limit: retried, then it recovers
    for _ in range(3):
        engine.next_action(observation(-1))
        assert engine.wait_idle(30.0)
    assert engine.status()["errors"] == 2 and not engine.failed
    assert engine.next_action(observation(-1)) is not None

    engine.reset()
    policy.fail_next = 3
    for _ in range(3):
        engine.next_action(observation(-1))
        assert engine.wait_idle(30.0)
    with pytest.raises(InferenceError, match="3 times in a row.*boom"):
        engine.next_action(observation(-1))
    with pytest.raises(InferenceError):  # stays failed: the strategy pauses the session on it
        engine.next_action(observation(-1))
    assert engine.status()["last_error"].endswith("boom")
    engine.reset()  # resume after the pause resets the engine: it tries again
    engine.next_action(observation(-1))
    assert engine.wait_idle(30.0)
    assert engine.next_action(observation(-1)) is not None


def test_status_reports_what_the_page_needs(engine_factory) -> None:  # noqa: ANN001
    policy = GuidedClockPolicy(gated=True)
    engine = engine_factory(policy, plot_joint="b.pos")
    drive(engine, policy, [2], 60)
    status = engine.status()
    assert status["engine"] == "rtc" and status["mode"] == "guided"
    assert set(status["latency_ms"]) == {"p50", "p95"}
    assert set(status["boundary_jump"]) == {"last", "p99", "max"}
    for key in ("delay_ticks", "queue_depth", "starved_ticks", "waiting_ticks", "inferences", "errors"):
        assert isinstance(status[key], int), key
    plot = status["plot"]
    assert plot["joint"] == "b.pos"
    assert plot["executed"][-1] == 59.0 - status["waiting_ticks"]
    assert len(plot["upcoming"]) == status["queue_depth"] and len(plot["executed"]) <= 90
    # only numbers (the page scales the plot by them); ticks before the first chunk are not plotted
    assert all(isinstance(v, float) for v in plot["executed"] + plot["upcoming"])
    assert len(plot["executed"]) == 60 - status["waiting_ticks"]
    assert plot["upcoming"][0] == plot["executed"][-1] + 1
    with pytest.raises(ValueError, match="plot joint"):
        RTCInferenceEngine(GuidedClockPolicy(), plot_joint="nope")


def test_real_threads_slow_policy_never_starves_when_latency_fits() -> None:
    """100 ms inference at 30 Hz (d = 4 ticks) with a real paced loop: no tick goes without an action."""
    policy = SlowedPolicy(GuidedClockPolicy(), 100.0)
    assert hasattr(policy, "predict_chunk_guided")
    engine = RTCInferenceEngine(policy, fps=30.0, queue_threshold=30)  # slack a loaded machine cannot eat
    engine.start()
    try:
        period = 1 / 30
        last = -1.0
        executed: list[float | None] = []
        deadline = time.perf_counter()
        for _ in range(120):
            action = engine.next_action(observation(last))
            if action is not None:
                last = float(action[0])
            executed.append(None if action is None else last)
            deadline += period
            time.sleep(max(0.0, deadline - time.perf_counter()))
        status = engine.status()
    finally:
        engine.stop()
    assert_counts_up(executed)
    assert status["starved_ticks"] == 0
    assert status["inferences"] >= 4
    assert status["latency_ms"]["p50"] >= 95.0
    # measured from the real latency (100 ms is 3+ ticks); the bound only rules out a runaway estimate
    # (a loaded machine may stretch an inference, so it is far above the nominal 4 ticks)
    assert 3 <= status["delay_ticks"] < policy.chunk_size // 2
    assert executed[-1] is not None


def test_the_hook_runs_on_the_inference_thread_before_each_chunk(engine_factory) -> None:  # noqa: ANN001
    import threading

    policy = GuidedClockPolicy(gated=True)
    engine = engine_factory(policy, queue_threshold=30)
    seen: list[tuple[int, int]] = []  # (thread, chunks computed when the hook ran)
    engine.before_inference = lambda: seen.append((threading.get_ident(), len(policy.calls)))
    drive(engine, policy, [2], 120)
    # a request made on the last tick may be between its hook and its call: wait for the call to show
    wait_until(lambda: len(seen) == len(policy.calls), timeout=30, message="the last chunk's call")
    assert len(seen) >= 2
    assert [calls for _, calls in seen] == list(range(len(seen)))  # before each chunk, never after
    assert {thread for thread, _ in seen} == {engine._thread.ident} != {threading.get_ident()}
