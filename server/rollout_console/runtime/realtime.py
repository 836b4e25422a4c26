"""Real-time scheduling for the control thread (``--loop.realtime=true``).

Under SCHED_FIFO the control thread wakes on time even with every core busy (other processes, torch, the
encoders), because the kernel runs a ready real-time thread before any normal one. It needs root or
CAP_SYS_NICE; without them the loop keeps the normal scheduler and status says why. ``SCHED_RESET_ON_FORK``
keeps threads and processes started from the control thread (a lazily created torch pool, a sync policy's
helpers) off real-time priority, and the kernel's RT throttling (``kernel.sched_rt_runtime_us``, 95 % by
default) still leaves the rest of the system CPU time if a tick ever spins. The tick itself must keep
sleeping between deadlines: it does, by design of the loop.

The GIL hand-off. A real-time thread that wakes on time still needs the GIL, and whichever thread holds it
(the web server, a preview) must run to let go of it; on a computer whose cores are busy with other
processes that thread waits its turn behind them, and the control thread waits behind it (priority
inversion through the GIL: measured here with two CPU hogs, SCHED_FIFO alone brought lateness p50 to
0.03 ms but made p99 worse). So the console's other threads are raised too, to nice ``PROCESS_NICE``
(-10): they beat ordinary processes to the CPU and hand the GIL back within the switch interval. Threads
lowered on purpose (the video encoders, nice 10) keep their value, and threads started later inherit it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PROCESS_NICE", "RealtimeState", "enter_realtime"]

PROCESS_NICE = -10
"""The nice value of the console's other threads under ``--loop.realtime`` (see the module docstring)."""


@dataclass(frozen=True)
class RealtimeState:
    """What ``--loop.realtime`` achieved on the control thread."""

    requested: bool
    active: bool
    policy: str
    priority: int
    detail: str | None = None
    process_nice: int | None = None
    """The nice value the console's other threads were raised to (None: unchanged)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


NOT_REQUESTED = RealtimeState(requested=False, active=False, policy="SCHED_OTHER", priority=0)


def enter_realtime(priority: int) -> RealtimeState:
    """Put the calling thread under SCHED_FIFO at ``priority`` (1-99); never raises."""
    setter = getattr(os, "sched_setscheduler", None)
    if setter is None:
        return RealtimeState(True, False, "SCHED_OTHER", 0, "this system has no sched_setscheduler (Linux only)")
    flags = os.SCHED_FIFO | getattr(os, "SCHED_RESET_ON_FORK", 0)
    try:
        setter(0, flags, os.sched_param(priority))
    except PermissionError:
        return RealtimeState(True, False, "SCHED_OTHER", 0,
                             "not permitted: run as root or grant CAP_SYS_NICE (e.g. docker --cap-add=SYS_NICE, "
                             "systemd AmbientCapabilities=CAP_SYS_NICE) or raise RLIMIT_RTPRIO")
    except OSError as exc:
        return RealtimeState(True, False, "SCHED_OTHER", 0, f"sched_setscheduler failed: {exc}")
    active = (os.sched_getscheduler(0) & ~getattr(os, "SCHED_RESET_ON_FORK", 0)) == os.SCHED_FIFO
    if not active:
        return RealtimeState(True, False, "SCHED_OTHER", 0, "the scheduler did not change")
    raised = _raise_other_threads(PROCESS_NICE)
    return RealtimeState(True, True, "SCHED_FIFO", priority, None if raised else
                         "the other threads could not be raised (GIL hand-off may be slow under load)",
                         PROCESS_NICE if raised else None)


def _raise_other_threads(nice: int) -> bool:
    """Set every thread of this process at the process's own nice value to ``nice`` (threads lowered on
    purpose, the encoders, have a higher value and keep it); the main thread's value is inherited by threads
    started later. False when the system refuses."""
    try:
        tids = [int(name) for name in os.listdir("/proc/self/task")]
        normal = os.getpriority(os.PRIO_PROCESS, os.getpid())  # the main thread's
    except OSError:
        return False
    ok = True
    for tid in tids:
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) <= normal:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
        except ProcessLookupError:  # the thread ended meanwhile
            continue
        except OSError:
            ok = False
    return ok
