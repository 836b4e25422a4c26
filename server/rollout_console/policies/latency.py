"""Wraps any policy with an artificial inference delay, to emulate slow models in tests and benchmarks.

``SlowedPolicy(inner, latency_ms)`` slows ``predict_chunk`` and, only when ``inner`` is a guided policy,
also exposes and slows ``predict_chunk_guided`` (the returned object is then a ``SlowedGuidedPolicy``).
So wrapping never grants or hides the guided capability. ``latency_ms`` may be a number or a callable
returning the latency of the next call (programmable latency for tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .protocol import Policy, is_guided

__all__ = ["SlowedGuidedPolicy", "SlowedPolicy"]

Latency = float | Callable[[], float]


class SlowedPolicy:
    """Adds ``latency_ms`` of wall-clock delay to every prediction (sleeping, so the GIL is free).

    The delay is a floor on the total call time: a prediction that already takes longer is not
    slowed further.
    """

    def __new__(cls, inner: Policy, latency_ms: Latency) -> SlowedPolicy:
        if cls is SlowedPolicy and is_guided(inner):
            cls = SlowedGuidedPolicy
        return super().__new__(cls)

    def __init__(self, inner: Policy, latency_ms: Latency) -> None:
        self.inner = inner
        self._latency = latency_ms
        label = "var" if callable(latency_ms) else f"{latency_ms:g}"
        self.name = f"{inner.name}+{label}ms"
        self.chunk_size = inner.chunk_size
        self.action_names = inner.action_names
        self.calls = 0

    @property
    def latency_s(self) -> float:
        """Latency of the next call, in seconds."""
        value = self._latency() if callable(self._latency) else self._latency
        return max(0.0, float(value)) / 1000.0

    def reset(self) -> None:
        self.inner.reset()

    def _slowed(self, call: Callable[[], np.ndarray]) -> np.ndarray:
        latency = self.latency_s
        started = time.perf_counter()
        chunk = call()
        self.calls += 1
        remaining = latency - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)
        return chunk

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray:
        return self._slowed(lambda: self.inner.predict_chunk(observation))

    def __getattr__(self, item: str) -> Any:
        if item == "predict_chunk_guided" or item.startswith("__"):
            raise AttributeError(item)
        return getattr(self.inner, item)


class SlowedGuidedPolicy(SlowedPolicy):
    """A SlowedPolicy around a guided policy: guided predictions are slowed the same way."""

    def predict_chunk_guided(
        self,
        observation: dict[str, Any],
        prefix: np.ndarray,
        inference_delay: int,
        execution_horizon: int,
        schedule: str = "LINEAR",
        max_guidance_weight: float = 10.0,
    ) -> np.ndarray:
        inner: Any = self.inner
        return self._slowed(lambda: inner.predict_chunk_guided(
            observation, prefix, inference_delay, execution_horizon, schedule, max_guidance_weight))
