"""Inference-delay estimation in control ticks (real-time chunking's d).

The estimate is a high percentile (by default the maximum) of the last ``window`` observed delays,
never a session-wide maximum, so one latency spike is forgotten after ``window`` inferences. The
first ``warmup`` observations (cold start, lazy initialisation, compilation) are not recorded.
"""

from __future__ import annotations

import math
import threading
from collections import deque

import numpy as np

__all__ = ["DelayEstimator"]


class DelayEstimator:
    """Sliding-window delay estimate in ticks (thread-safe)."""

    def __init__(self, window: int = 10, percentile: float = 100.0, margin: int = 0, warmup: int = 1) -> None:
        if window < 1:
            raise ValueError("window must be >= 1")
        if not 0.0 < percentile <= 100.0:
            raise ValueError("percentile must be in (0, 100]")
        self.window = window
        self.percentile = percentile
        self.margin = margin
        self._warmup_left = warmup
        self._values: deque[int] = deque(maxlen=window)
        self._last: int | None = None
        self._lock = threading.Lock()

    def add(self, ticks: int) -> bool:
        """Record one observed delay; returns False when it was a warm-up observation (ignored)."""
        with self._lock:
            self._last = int(ticks)
            if self._warmup_left > 0:
                self._warmup_left -= 1
                return False
            self._values.append(int(ticks))
            return True

    def estimate(self, default: int | None = None) -> int | None:
        """The current estimate (plus margin); before any recorded value the last warm-up observation
        (conservative: cold starts are slow), else ``default``."""
        with self._lock:
            if self._values:
                data = np.fromiter(self._values, dtype=np.float64)
                value = data.max() if self.percentile >= 100.0 else np.percentile(data, self.percentile)
                return int(math.ceil(value - 1e-9)) + self.margin
            if self._last is not None:
                return self._last + self.margin
            return default

    @property
    def values(self) -> list[int]:
        with self._lock:
            return list(self._values)

    @property
    def last(self) -> int | None:
        return self._last

    def __len__(self) -> int:
        return len(self._values)
