"""Deadline pacing, overrun accounting and shutdown of the ControlLoop (structure, not absolute speed)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from rollout_console.runtime.control_loop import ControlLoop
from rollout_console.runtime.timing import SlidingWindow, TickTiming


class FakeClock:
    """Time that moves only when the loop sleeps or a tick says it worked: pacing without wall time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def _run(period: float, ticks: int, tick_fn=None, clock: FakeClock | None = None) -> tuple[ControlLoop, list[TickTiming]]:
    seen: list[TickTiming] = []
    clock = clock or FakeClock()

    def tick(timing: TickTiming) -> bool:
        seen.append(timing)
        if tick_fn:
            tick_fn(timing, clock)
        return len(seen) < ticks

    loop = ControlLoop(period, tick, window_ticks=1000, clock=clock, sleep=clock.sleep)
    loop.start()
    assert loop.join(timeout=30)
    return loop, seen


def test_deadlines_are_absolute_and_do_not_drift() -> None:
    period = 0.01

    def jitter(timing: TickTiming, clock: FakeClock) -> None:
        clock.now += (timing.index % 3) * 0.002  # some work every tick, never a whole period

    loop, seen = _run(period, 60, jitter)
    deadlines = np.array([t.deadline for t in seen])
    # every deadline is start + k * period exactly: no accumulated drift, whatever the work took
    steps = (deadlines - deadlines[0]) / period
    assert np.allclose(steps, np.round(steps), atol=1e-6)
    assert int(round(steps[-1])) == 59 and loop.stats.skipped_deadlines == 0
    assert all(t.wake >= t.deadline for t in seen)
    assert loop.stats.ticks == 60


def test_overrun_skips_missed_deadlines_instead_of_bursting() -> None:
    period = 0.02

    def slow_third(timing: TickTiming, clock: FakeClock) -> None:
        if timing.index == 3:
            clock.now += period * 3.5  # runs past 3 deadlines

    loop, seen = _run(period, 10, slow_third)
    assert loop.stats.overruns == 1
    assert loop.stats.skipped_deadlines == 2
    # the tick after the overrun is scheduled on the grid, not immediately replayed several times
    after = [t for t in seen if t.index > 3]
    gaps = np.diff([t.deadline for t in after])
    assert np.allclose(gaps, period, atol=1e-9)
    assert after[0].deadline - seen[3].deadline == pytest.approx(3 * period)  # on the grid, 2 skipped


def test_overrun_on_the_real_clock_never_bursts() -> None:
    """The same rule on wall time, with bounds no load can break: ticks never come closer than a period."""
    period = 0.02

    def slow_third(timing: TickTiming, clock: FakeClock) -> None:
        if timing.index == 3:
            time.sleep(period * 3.5)

    seen: list[TickTiming] = []

    def tick(timing: TickTiming) -> bool:
        seen.append(timing)
        slow_third(timing, FakeClock())
        return len(seen) < 8

    loop = ControlLoop(period, tick, window_ticks=100)
    loop.start()
    assert loop.join(timeout=60)
    assert loop.stats.overruns >= 1 and loop.stats.skipped_deadlines >= 2
    gaps = np.diff([t.deadline for t in seen])
    assert np.all(gaps >= period - 1e-9)


def test_stats_summary_reports_rate_and_lateness() -> None:
    loop, _ = _run(0.01, 50)
    summary = loop.stats.summary()
    assert summary["ticks"] == 50
    assert summary["measured_hz"] == pytest.approx(100.0, rel=0.05)
    assert set(summary["lateness_ms"]) == {"p50", "p99", "max"}
    assert summary["lateness_ms"]["p50"] <= summary["lateness_ms"]["max"]


def test_request_stop_ends_the_loop() -> None:
    stopped = threading.Event()
    loop = ControlLoop(0.005, lambda t: True, window_ticks=100, on_exit=lambda err: stopped.set())
    loop.start()
    time.sleep(0.05)
    loop.request_stop()
    assert loop.join(timeout=5) and stopped.wait(1)


def test_tick_exception_is_reported_not_swallowed() -> None:
    errors: list[BaseException | None] = []

    def boom(timing: TickTiming) -> bool:
        raise RuntimeError("tick exploded")

    loop = ControlLoop(0.005, boom, window_ticks=10, on_exit=errors.append)
    loop.start()
    assert loop.join(timeout=5)
    assert len(errors) == 1 and isinstance(errors[0], RuntimeError)


def test_invalid_period() -> None:
    with pytest.raises(ValueError):
        ControlLoop(0, lambda t: True, window_ticks=10)


def test_sliding_window_keeps_only_the_newest_values() -> None:
    window = SlidingWindow(4)
    for value in range(10):
        window.add(float(value))
    assert list(window.values()) == [6.0, 7.0, 8.0, 9.0]
    assert window.max() == 9.0 and len(window) == 4
    p50, p99 = window.percentiles(50, 99)
    assert p50 == pytest.approx(7.5) and p99 is not None and p99 <= 9.0
    window.clear()
    assert window.percentiles(50) == [None]


def test_wait_after_tick_returns_right_after_a_tick_ends() -> None:
    ended: list[float] = []
    stop = threading.Event()

    def tick(timing: TickTiming) -> bool:
        time.sleep(0.003)  # some work, so "after the tick" is distinguishable from "during it"
        ended.append(time.perf_counter())
        return not stop.is_set()

    loop = ControlLoop(0.05, tick, window_ticks=100)
    assert loop.wait_after_tick(timeout=0.5) is False  # no loop running: nothing to wait for
    loop.start()
    try:
        for _ in range(5):
            before = len(ended)
            assert loop.wait_after_tick() is True
            assert len(ended) > before  # woken by a tick that ended after the wait began
    finally:
        stop.set()
        assert loop.join(timeout=5)
    assert loop.wait_after_tick(timeout=0.5) is False
