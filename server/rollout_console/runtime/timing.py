"""Sliding-window statistics for the control loop and inference latencies (thread-safe)."""

from __future__ import annotations

from dataclasses import dataclass

from ..window import SlidingWindow

__all__ = ["SlidingWindow", "TickStats", "TickTiming"]  # SlidingWindow re-exported from ..window


@dataclass(frozen=True, slots=True)
class TickTiming:
    """Measured timing of one tick (seconds, ``perf_counter`` clock)."""

    index: int
    deadline: float
    wake: float
    work: float
    cpu: float = 0.0
    """CPU time the control thread itself spent in the tick (``time.thread_time``): unlike ``work`` (wall),
    it does not grow when other threads or processes take the core or hold the GIL, so it measures what
    the tick costs, whatever the load."""

    @property
    def lateness(self) -> float:
        return max(0.0, self.wake - self.deadline)


class TickStats:
    """Per-tick period, work time and lateness over a sliding window, plus lifetime counters."""

    def __init__(self, window_ticks: int) -> None:
        self.lateness = SlidingWindow(window_ticks)
        self.work = SlidingWindow(window_ticks)
        self.cpu = SlidingWindow(window_ticks)
        self.wakes = SlidingWindow(window_ticks)
        self.ticks = 0
        self.overruns = 0
        self.skipped_deadlines = 0

    def record(self, timing: TickTiming, overrun: bool, skipped: int) -> None:
        self.lateness.add(timing.lateness)
        self.work.add(timing.work)
        self.cpu.add(timing.cpu)
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
        cpu_p50, cpu_p99 = ms(self.cpu.percentiles(50, 99))
        (late_max,) = ms([self.lateness.max()])
        (work_max,) = ms([self.work.max()])
        (cpu_max,) = ms([self.cpu.max()])
        hz = self.measured_hz()
        return {
            "measured_hz": None if hz is None else round(hz, 3),
            "lateness_ms": {"p50": late_p50, "p99": late_p99, "max": late_max},
            "work_ms": {"p50": work_p50, "p99": work_p99, "max": work_max},
            "cpu_ms": {"p50": cpu_p50, "p99": cpu_p99, "max": cpu_max},
            "overruns": self.overruns,
            "skipped_deadlines": self.skipped_deadlines,
            "ticks": self.ticks,
        }
