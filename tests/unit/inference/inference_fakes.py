"""Fake policies for engine tests: a clock policy with latency gated by the test (imported by the tests)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from rollout_console.features import STATE

JOINTS = ("a.pos", "b.pos")


class ClockPolicy:
    """The chunk from an observation whose state says "v was executed last" has rows v+1, v+2, ...

    Every action row holds its clock value in all joints, so the executed sequence must count
    0, 1, 2, ... without a skip or a repeat. Row 0 belongs to the observation's tick (training
    alignment). Each call records the guided arguments. With ``gated=True`` a call blocks until the
    test releases it, so latency is programmed in ticks and the test is deterministic.
    """

    name = "clock"

    def __init__(self, chunk_size: int = 50, gated: bool = False) -> None:
        self.chunk_size = chunk_size
        self.action_names = JOINTS
        self.calls: list[dict[str, Any]] = []
        self.resets = 0
        self.gated = gated
        self._released = 0
        self._started = 0
        self._cond = threading.Condition()
        self.fail_next = 0

    def reset(self) -> None:
        self.resets += 1

    def release(self) -> None:
        with self._cond:
            self._released += 1
            self._cond.notify_all()

    @property
    def started(self) -> int:
        return self._started

    def _chunk(self, observation: dict[str, Any]) -> np.ndarray:
        with self._cond:
            index = self._started
            self._started += 1
            if self.gated:
                if not self._cond.wait_for(lambda: self._released > index, timeout=60):
                    raise TimeoutError("test never released the call")
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RuntimeError("boom")
        last = float(observation[STATE][0])
        rows = last + 1 + np.arange(self.chunk_size, dtype=np.float32)
        return np.repeat(rows[:, None], len(JOINTS), axis=1)

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray:
        self.calls.append({"guided": False, "obs": float(observation[STATE][0])})
        return self._chunk(observation)


class GuidedClockPolicy(ClockPolicy):
    name = "guided_clock"

    def predict_chunk_guided(self, observation: dict[str, Any], prefix: np.ndarray, inference_delay: int,
                             execution_horizon: int, schedule: str = "LINEAR",
                             max_guidance_weight: float = 10.0) -> np.ndarray:
        self.calls.append({"guided": True, "obs": float(observation[STATE][0]), "prefix": prefix.copy(),
                           "delay": inference_delay, "horizon": execution_horizon, "schedule": schedule,
                           "beta": max_guidance_weight})
        return self._chunk(observation)


def observation(last_executed: float) -> dict[str, Any]:
    return {STATE: np.full(len(JOINTS), last_executed, dtype=np.float32), "task": ""}


