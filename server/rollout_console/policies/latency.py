"""Wraps any policy with an artificial inference delay, to emulate slow models in tests and benchmarks."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .protocol import Policy

__all__ = ["SlowedPolicy"]


class SlowedPolicy:
    """Adds ``latency_ms`` of wall-clock delay to every prediction (sleeping, so the GIL is free)."""

    def __init__(self, inner: Policy, latency_ms: float) -> None:
        self.inner = inner
        self.latency_s = latency_ms / 1000.0
        self.name = f"{inner.name}+{latency_ms:g}ms"
        self.chunk_size = inner.chunk_size
        self.action_names = inner.action_names

    def reset(self) -> None:
        self.inner.reset()

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray:
        started = time.perf_counter()
        chunk = self.inner.predict_chunk(observation)
        remaining = self.latency_s - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)
        return chunk

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)
