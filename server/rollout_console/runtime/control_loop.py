"""ControlLoop: one thread that calls a tick function at absolute deadlines and measures every tick.

Deadlines are ``start + k * period`` (no drift). A tick that runs past the next deadline is an
overrun; if it ran past several, the missed deadlines are skipped (counted) rather than replayed in a
burst, because a robot must not receive a backlog of stale commands.

Each tick is measured twice: ``work`` is its wall time (what the robot sees), ``cpu`` the control
thread's own CPU time (``time.thread_time_ns``). ``cpu`` stays the same under load, so it tells a tick
that did too much from a tick that waited for a core or for the GIL.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from .realtime import NOT_REQUESTED, RealtimeState, enter_realtime
from .timing import TickStats, TickTiming

__all__ = ["ControlLoop"]

log = logging.getLogger(__name__)

TickFunction = Callable[[TickTiming], bool]


class ControlLoop:
    """Runs ``tick(timing) -> keep_running`` every ``period_s`` on a dedicated thread."""

    def __init__(self, period_s: float, tick: TickFunction, *, window_ticks: int,
                 on_exit: Callable[[BaseException | None], None] | None = None,
                 name: str = "control-loop", clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep, realtime_priority: int | None = None,
                 cpu_clock: Callable[[], int] = time.thread_time_ns) -> None:
        if period_s <= 0:
            raise ValueError("period must be positive")
        self.period_s = period_s
        self._tick = tick
        self._on_exit = on_exit
        self._name = name
        self._clock = clock  # injectable so tests can pace the loop on a fake clock
        self._sleep = sleep
        self._cpu_clock = cpu_clock  # the control thread's own CPU time (ns); see TickTiming.cpu
        self._realtime_priority = realtime_priority
        self.realtime: RealtimeState = NOT_REQUESTED
        """What ``--loop.realtime`` achieved (set by the loop thread before its first tick)."""
        self._realtime_set = threading.Event()
        self.stats = TickStats(window_ticks)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._tick_end = threading.Condition()
        self._tick_seq = 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("control loop already started")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def wait_after_tick(self, timeout: float | None = None) -> bool:
        """Block until the loop has just finished a tick; True then, False on timeout or when no loop runs.

        For helper threads about to hold the GIL for milliseconds in C code (opening a video encoder):
        right after a tick the control thread sleeps until its next deadline, so the hold falls in the
        idle part of the period instead of delaying a tick.
        """
        if not self.running:
            return False
        wait = 2.0 * self.period_s if timeout is None else timeout
        with self._tick_end:
            seq = self._tick_seq
            return self._tick_end.wait_for(lambda: self._tick_seq != seq or not self.running, wait) \
                and self._tick_seq != seq

    def wait_realtime(self, timeout: float = 10.0) -> RealtimeState:
        """The real-time state once the loop thread has applied it (tests, the start-up log)."""
        self._realtime_set.wait(timeout)
        return self.realtime

    def request_stop(self) -> None:
        """Ends the loop after the current tick (no further ticks run)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        clock = self._clock
        sleep = self._sleep
        cpu_clock = self._cpu_clock
        period = self.period_s
        deadline = clock()
        index = 0
        error: BaseException | None = None
        if self._realtime_priority is not None:
            self.realtime = enter_realtime(self._realtime_priority)
            if self.realtime.active:
                log.info("control loop runs under SCHED_FIFO priority %d", self.realtime.priority)
            else:
                log.warning("--loop.realtime=true did not take effect: %s", self.realtime.detail)
        self._realtime_set.set()
        try:
            while not self._stop.is_set():
                delay = deadline - clock()
                if delay > 0:
                    sleep(delay)
                wake = clock()
                cpu_start = cpu_clock()
                keep_running = self._tick(TickTiming(index, deadline, wake, 0.0))
                cpu = (cpu_clock() - cpu_start) / 1e9
                end = clock()
                next_deadline = deadline + period
                overrun = end > next_deadline
                skipped = 0
                if overrun:
                    skipped = math.floor((end - next_deadline) / period)
                    next_deadline += skipped * period
                self.stats.record(TickTiming(index, deadline, wake, end - wake, cpu), overrun, skipped)
                with self._tick_end:
                    self._tick_seq += 1
                    self._tick_end.notify_all()
                deadline = next_deadline
                index += 1
                if not keep_running:
                    break
        except BaseException as exc:  # reported to the owner; the loop must never die silently
            error = exc
            log.exception("control loop crashed")
        finally:
            with self._tick_end:
                self._tick_end.notify_all()
            if self._on_exit is not None:
                self._on_exit(error)
