"""The latency-following inference trigger: the rule itself, and the engine keeping its queue filled with
fewer inferences than a fixed threshold (ticks and latencies are driven by the test, no wall clock)."""

from __future__ import annotations

import pytest
from inference_fakes import GuidedClockPolicy
from test_rtc_engine import assert_counts_up, drive

from rollout_console.inference.rtc import RTCInferenceEngine
from rollout_console.inference.trigger import QueueTrigger


def test_the_rule_follows_the_delay_with_a_margin_that_grows_with_it() -> None:
    trigger = QueueTrigger(fps=30.0)  # margin: the delay again, at least 100 ms = 3 ticks
    assert trigger.mode == "latency"
    assert [trigger.threshold(d) for d in (0, 1, 2, 3, 4, 10, 24)] == [3, 4, 5, 6, 8, 20, 48]
    assert QueueTrigger(fps=120.0).threshold(2) == 2 + 12  # the floor is in time, so in more ticks at 120 Hz
    assert QueueTrigger(fps=30.0, margin_fraction=0.5, margin_ms=0).threshold(9) == 9 + 5


def test_a_fixed_threshold_overrides_the_rule() -> None:
    trigger = QueueTrigger(fps=30.0, fixed=30)
    assert trigger.mode == "fixed" and trigger.threshold(2) == 30 and trigger.threshold(40) == 30


@pytest.mark.parametrize(("delay", "chunk", "keeps_up"), [(4, 50, True), (25, 50, True), (26, 50, False),
                                                          (60, 50, False)])
def test_keeping_up_needs_half_a_chunk_per_inference(delay: int, chunk: int, keeps_up: bool) -> None:
    assert QueueTrigger.keeps_up(delay, chunk) is keeps_up


@pytest.fixture
def engines():  # noqa: ANN201
    made: list[tuple[RTCInferenceEngine, GuidedClockPolicy]] = []

    def make(**kwargs: object) -> tuple[RTCInferenceEngine, GuidedClockPolicy]:
        policy = GuidedClockPolicy(gated=True)
        engine = RTCInferenceEngine(policy, fps=30.0, error_backoff_s=0.0, **kwargs)  # type: ignore[arg-type]
        engine.start()
        made.append((engine, policy))
        return engine, policy

    yield make
    for engine, policy in made:
        for _ in range(3):
            policy.release()
        engine.stop()


def test_a_fast_policy_infers_less_often_and_never_starves(engines) -> None:  # noqa: ANN001
    latencies = [2, 3, 1, 3, 2, 3, 2, 1]  # ticks: a fast model with jitter inside the margin
    automatic, auto_policy = engines()
    fixed, fixed_policy = engines(queue_threshold=30)
    assert_counts_up(drive(automatic, auto_policy, latencies, 900))
    assert_counts_up(drive(fixed, fixed_policy, latencies, 900))
    auto_status, fixed_status = automatic.status(), fixed.status()
    assert auto_status["starved_ticks"] == 0 and fixed_status["starved_ticks"] == 0
    assert auto_status["queue_threshold_mode"] == "latency" and auto_status["keeps_up"]
    assert auto_status["queue_threshold"] < 30
    # each inference covers more of its chunk: far fewer inferences for the same motion
    assert auto_status["inferences"] * 3 <= fixed_status["inferences"] * 2, (auto_status["inferences"],
                                                                              fixed_status["inferences"])


def test_the_threshold_rises_with_the_latency_and_slack_absorbs_its_jitter(engines) -> None:  # noqa: ANN001
    engine, policy = engines()
    drive(engine, policy, [3, 3, 3, 3], 200)
    low = engine.queue_threshold
    # the model slows down (another process takes the CPU): delays double, with jitter up to +50 %
    latencies = [3, 3, 3, 7, 10, 8, 10, 12, 9, 11, 10, 12, 8, 10, 11, 9]
    executed = drive(engine, policy, latencies, 1200)
    values = [v for v in executed if v is not None]
    assert values == [values[0] + i for i in range(len(values))], "an action was skipped or repeated"
    status = engine.status()
    assert engine.queue_threshold > low
    assert status["keeps_up"]
    # one step up can outrun the slack once (the estimate learns it from that inference); after that the
    # windowed estimate plus the margin covers the jitter: at most that one hole
    first = next(i for i, value in enumerate(executed) if value is not None)
    holes = [i for i, value in enumerate(executed[first:]) if value is None]
    assert status["starved_ticks"] == len(holes) <= 1 * 12, holes


def test_a_model_slower_than_half_a_chunk_is_reported(engines) -> None:  # noqa: ANN001
    engine, policy = engines()
    drive(engine, policy, [30, 30, 30, 30], 400)  # d = 31 ticks > 50 / 2
    status = engine.status()
    assert status["delay_ticks"] > 25 and not status["keeps_up"] and status["starved_ticks"] > 0
