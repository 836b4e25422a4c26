"""SlidingWindow: the last N values with percentiles; shared by the loop timing and the engines' metrics.

A leaf module (no project imports) so that runtime/ and inference/ can both use it without a cycle.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["SlidingWindow"]


class SlidingWindow:
    """The last ``capacity`` values in a numpy ring; percentiles over what is in the window."""

    def __init__(self, capacity: int) -> None:
        self._values = np.zeros(max(1, capacity), dtype=np.float64)
        self._count = 0
        self._next = 0
        self._lock = threading.Lock()

    def add(self, value: float) -> None:
        with self._lock:
            self._values[self._next] = value
            self._next = (self._next + 1) % len(self._values)
            self._count = min(self._count + 1, len(self._values))

    def values(self) -> np.ndarray:
        """Window contents, oldest first."""
        with self._lock:
            if self._count < len(self._values):
                return self._values[: self._count].copy()
            return np.concatenate((self._values[self._next :], self._values[: self._next]))

    def __len__(self) -> int:
        return self._count

    def clear(self) -> None:
        with self._lock:
            self._count = 0
            self._next = 0

    def percentiles(self, *qs: float) -> list[float | None]:
        data = self.values()
        if data.size == 0:
            return [None for _ in qs]
        return [float(v) for v in np.percentile(data, qs)]

    def max(self) -> float | None:
        data = self.values()
        return float(data.max()) if data.size else None
