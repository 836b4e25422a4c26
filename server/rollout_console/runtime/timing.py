"""Sliding-window statistics for the control loop and inference latencies (thread-safe)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

__all__ = ["SlidingWindow", "TickStats", "TickTiming"]


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


@dataclass(frozen=True, slots=True)
class TickTiming:
    """Measured timing of one tick (seconds, ``perf_counter`` clock)."""

    index: int
    deadline: float
    wake: float
    work: float

    @property
    def lateness(self) -> float:
        return max(0.0, self.wake - self.deadline)


class TickStats:
    """Per-tick period, work time and lateness over a sliding window, plus lifetime counters."""

    def __init__(self, window_ticks: int) -> None:
        self.lateness = SlidingWindow(window_ticks)
        self.work = SlidingWindow(window_ticks)
        self.wakes = SlidingWindow(window_ticks)
        self.ticks = 0
        self.overruns = 0
        self.skipped_deadlines = 0

    def record(self, timing: TickTiming, overrun: bool, skipped: int) -> None:
        self.lateness.add(timing.lateness)
        self.work.add(timing.work)
        self.wakes.add(timing.wake)
        self.ticks += 1
        self.overruns += int(overrun)
        self.skipped_deadlines += skipped

    def measured_hz(self) -> float | None:
        wakes = self.wakes.values()
        if wakes.size < 2 or wakes[-1] <= wakes[0]:
            return None
        return float((wakes.size - 1) / (wakes[-1] - wakes[0]))

    def summary(self) -> dict[str, object]:
        def ms(values: list[float | None]) -> list[float | None]:
            return [None if v is None else round(v * 1000.0, 3) for v in values]

        late_p50, late_p99 = ms(self.lateness.percentiles(50, 99))
        work_p50, work_p99 = ms(self.work.percentiles(50, 99))
        (late_max,) = ms([self.lateness.max()])
        (work_max,) = ms([self.work.max()])
        hz = self.measured_hz()
        return {
            "measured_hz": None if hz is None else round(hz, 3),
            "lateness_ms": {"p50": late_p50, "p99": late_p99, "max": late_max},
            "work_ms": {"p50": work_p50, "p99": work_p99, "max": work_max},
            "overruns": self.overruns,
            "skipped_deadlines": self.skipped_deadlines,
            "ticks": self.ticks,
        }
