"""The control loop measures each tick's own CPU time (``time.thread_time``) next to its wall time."""

from __future__ import annotations

import threading

import pytest
from rollout_console.runtime.control_loop import ControlLoop
from rollout_console.runtime.timing import TickTiming


class FakeClocks:
    """Wall time moves when the loop sleeps or a tick waits; CPU time only when a tick computes."""

    def __init__(self) -> None:
        self.now = 50.0
        self.cpu_ns = 7_000_000_000

    def wall(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    def cpu(self) -> int:
        return self.cpu_ns


def test_cpu_is_what_the_tick_computed_and_work_what_it_took() -> None:
    clocks = FakeClocks()
    costs_ms = [0.2, 0.3, 0.25, 4.0, 0.2, 0.3]  # tick 3 computes 4 ms (a save, say)
    waits_ms = [0.0, 0.0, 6.0, 0.0, 0.0, 0.0]  # tick 2 waits 6 ms (the GIL, a core) without computing

    def tick(timing: TickTiming) -> bool:
        clocks.cpu_ns += int(costs_ms[timing.index] * 1e6)
        clocks.now += (costs_ms[timing.index] + waits_ms[timing.index]) / 1000.0
        return timing.index < len(costs_ms) - 1

    loop = ControlLoop(1 / 120, tick, window_ticks=100, clock=clocks.wall, sleep=clocks.sleep, cpu_clock=clocks.cpu)
    loop.start()
    assert loop.join(timeout=30)
    cpu_ms = [v * 1000 for v in loop.stats.cpu.values()]
    work_ms = [v * 1000 for v in loop.stats.work.values()]
    assert cpu_ms == pytest.approx(costs_ms)
    assert work_ms == pytest.approx([c + w for c, w in zip(costs_ms, waits_ms, strict=True)])
    summary = loop.stats.summary()
    assert summary["cpu_ms"]["max"] == pytest.approx(4.0)
    assert summary["work_ms"]["max"] == pytest.approx(6.25)
    assert set(summary["cpu_ms"]) == {"p50", "p99", "max"}


def test_a_tick_that_waits_costs_no_cpu_on_the_real_clocks() -> None:
    """On the real clocks: a tick blocked on an event has wall time but (almost) no CPU time, whatever the load."""
    release = threading.Event()
    ticks: list[int] = []

    def tick(timing: TickTiming) -> bool:
        ticks.append(timing.index)
        if timing.index == 1:
            release.wait(0.05)  # blocked: never set, so it waits the whole 50 ms without computing
        return timing.index < 2

    loop = ControlLoop(0.01, tick, window_ticks=10)
    loop.start()
    assert loop.join(timeout=30)
    work = loop.stats.work.values()
    cpu = loop.stats.cpu.values()
    assert len(cpu) == 3 and all(c >= 0 for c in cpu)
    assert work[1] >= 0.05  # the wait is in the wall time ...
    assert cpu[1] < 0.025  # ... and not in the CPU time (a wait computes nothing; half the wait is a wide margin)
    assert all(c <= w + 1e-3 for c, w in zip(cpu, work, strict=True))  # a thread cannot compute longer than it ran


def test_status_summary_has_cpu_next_to_work() -> None:
    loop = ControlLoop(0.01, lambda timing: timing.index < 3, window_ticks=10)
    loop.start()
    assert loop.join(timeout=30)
    summary = loop.stats.summary()
    assert summary["ticks"] == 4
    assert summary["cpu_ms"]["p50"] is not None and summary["cpu_ms"]["max"] >= summary["cpu_ms"]["p50"] >= 0
