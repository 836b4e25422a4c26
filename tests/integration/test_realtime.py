"""--loop.realtime: the control thread runs under SCHED_FIFO where allowed, the console's other threads are
raised so they hand the GIL back quickly, threads it starts are not real-time, and status says what happened.

Scheduling changes a whole process, so each check runs in a child process (a real console for the session
check), never in the test process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import httpx
import pytest
from helpers import cli_server, wait_until

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setscheduler"), reason="Linux scheduling only")

LOOP_CHILD = textwrap.dedent("""
    import json, os, threading
    from rollout_console.runtime.control_loop import ControlLoop
    seen = {}
    def tick(timing):
        seen["loop"] = os.sched_getscheduler(0) & ~os.SCHED_RESET_ON_FORK
        child = threading.Thread(target=lambda: seen.update(child=os.sched_getscheduler(0),
                                                            child_nice=os.getpriority(os.PRIO_PROCESS, 0)))
        child.start(); child.join(10)
        return False
    other = threading.Thread(target=lambda: threading.Event().wait(5), daemon=True)  # e.g. the web server
    other.start()
    loop = ControlLoop(0.01, tick, window_ticks=10, realtime_priority=20)
    loop.start()
    state = loop.wait_realtime()
    loop.join(30)
    seen["other_nice"] = os.getpriority(os.PRIO_PROCESS, other.native_id)
    seen["main"] = os.sched_getscheduler(0)
    print(json.dumps({"state": state.to_dict(), "seen": seen}))
""")


def test_only_the_loop_thread_is_realtime_and_the_others_are_raised() -> None:
    out = subprocess.run([sys.executable, "-c", LOOP_CHILD], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    state, seen = result["state"], result["seen"]
    assert state["requested"]
    if state["active"]:
        assert seen["loop"] == os.SCHED_FIFO and state["priority"] == 20 and state["policy"] == "SCHED_FIFO"
        if state["process_nice"] is not None:
            assert seen["other_nice"] == state["process_nice"] == -10
    else:  # not permitted here: the reason says what to change, and nothing changed
        assert seen["loop"] == os.SCHED_OTHER and "CAP_SYS_NICE" in state["detail"]
    assert seen["child"] == os.SCHED_OTHER  # reset on fork: a pool the tick starts is not real-time
    assert seen["main"] == os.SCHED_OTHER


def _thread_policies(pid: int) -> dict[str, tuple[int, int]]:
    """Thread name -> (scheduling policy, nice) for every thread of ``pid``."""
    found = {}
    for name in os.listdir(f"/proc/{pid}/task"):
        tid = int(name)
        try:
            comm = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
            found[f"{comm}/{tid}"] = (os.sched_getscheduler(tid) & ~os.SCHED_RESET_ON_FORK,
                                      os.getpriority(os.PRIO_PROCESS, tid))
        except (OSError, ProcessLookupError):
            continue
    return found


def test_a_console_reports_its_realtime_state_in_status() -> None:
    with cli_server("--loop.realtime=true", "--loop.realtime_priority=15") as (url, proc):
        wait_until(lambda: httpx.get(f"{url}/api/v1/status", timeout=10).json()["phase"] == "autonomous",
                   timeout=60, interval=0.2, message="autonomous")
        realtime = httpx.get(f"{url}/api/v1/status", timeout=10).json()["loop"]["realtime"]
        assert realtime["requested"] is True
        threads = _thread_policies(proc.pid)
        fifo = [name for name, (policy, _) in threads.items() if policy == os.SCHED_FIFO]
        if realtime["active"]:
            assert realtime["policy"] == "SCHED_FIFO" and realtime["priority"] == 15
            assert len(fifo) == 1, threads  # the control thread, and only it
        else:
            assert realtime["detail"] and not fifo
    with cli_server() as (url, _):
        plain = httpx.get(f"{url}/api/v1/status", timeout=10).json()["loop"]["realtime"]
        assert plain == {"requested": False, "active": False, "policy": "SCHED_OTHER", "priority": 0,
                         "detail": None, "process_nice": None}
