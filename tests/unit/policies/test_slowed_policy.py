"""SlowedPolicy: artificial latency on plain and guided predictions; guided only if the inner policy is."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from rollout_console.policies import latency as latency_module
from rollout_console.policies.latency import SlowedGuidedPolicy, SlowedPolicy
from rollout_console.policies.protocol import GuidedPolicy, Policy, is_guided


class Plain:
    name = "plain"
    chunk_size = 4
    action_names = ("a.pos",)

    def __init__(self) -> None:
        self.resets = 0
        self.extra = "forwarded"

    def reset(self) -> None:
        self.resets += 1

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray:
        return np.zeros((4, 1), np.float32)


class Guided(Plain):
    name = "guided"

    def predict_chunk_guided(self, observation: dict[str, Any], prefix: np.ndarray, inference_delay: int,
                             execution_horizon: int, schedule: str = "LINEAR",
                             max_guidance_weight: float = 10.0) -> np.ndarray:
        self.last_args = (len(prefix), inference_delay, execution_horizon, schedule, max_guidance_weight)
        return np.ones((4, 1), np.float32)


def _timed(call) -> float:  # noqa: ANN001
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def test_plain_policy_stays_plain() -> None:
    slowed = SlowedPolicy(Plain(), 30)
    assert type(slowed) is SlowedPolicy
    assert isinstance(slowed, Policy) and not isinstance(slowed, GuidedPolicy) and not is_guided(slowed)
    assert not hasattr(slowed, "predict_chunk_guided")
    assert _timed(lambda: slowed.predict_chunk({})) >= 0.029
    assert slowed.name == "plain+30ms" and slowed.extra == "forwarded"
    slowed.reset()
    assert slowed.inner.resets == 1


def test_guided_policy_stays_guided_and_guided_calls_are_slowed() -> None:
    slowed = SlowedPolicy(Guided(), 30)
    assert isinstance(slowed, SlowedGuidedPolicy) and isinstance(slowed, SlowedPolicy)
    assert isinstance(slowed, GuidedPolicy) and is_guided(slowed)
    elapsed = _timed(lambda: slowed.predict_chunk_guided({}, np.zeros((3, 1)), 2, 8, "EXP", 5.0))
    assert elapsed >= 0.029
    assert slowed.inner.last_args == (3, 2, 8, "EXP", 5.0)
    assert slowed.calls == 1


class _FakeTime:
    """Stands in for the ``time`` module inside policies.latency: a clock that only sleeps move."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def perf_counter(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))
        self.now += seconds


def test_programmable_latency(monkeypatch) -> None:
    clock = _FakeTime()
    monkeypatch.setattr(latency_module, "time", clock)
    latencies = iter([0.0, 40.0, 0.0])
    slowed = SlowedPolicy(Plain(), lambda: next(latencies))
    for _ in range(3):
        slowed.predict_chunk({})
    assert clock.sleeps == [0.04] and clock.now == 100.04  # only the second call was slowed, by 40 ms
    assert slowed.calls == 3


def test_latency_is_a_floor_not_an_addition(monkeypatch) -> None:
    clock = _FakeTime()
    monkeypatch.setattr(latency_module, "time", clock)

    class Busy(Plain):
        def predict_chunk(self, observation):  # noqa: ANN001, ANN201
            clock.now += 0.025  # the model itself takes 25 ms
            return super().predict_chunk(observation)

    SlowedPolicy(Busy(), 40).predict_chunk({})
    assert clock.sleeps == [0.015]  # topped up to 40 ms
    SlowedPolicy(Busy(), 20).predict_chunk({})
    assert clock.sleeps == [0.015]  # already slower than 20 ms: not slowed further
