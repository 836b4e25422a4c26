"""status.loop.cpu_ms: the control thread's own CPU per tick, next to its wall time (issue 16 item 5)."""

from __future__ import annotations

import httpx
from helpers import config, live_server, wait_until


def test_the_status_reports_the_ticks_own_cpu_time_next_to_their_wall_time() -> None:
    with live_server(config("--fps=30", "--interpolation_multiplier=4")) as live:
        def loop() -> dict:
            return httpx.get(live.url + "/api/v1/status", timeout=30).json()["loop"]

        status = wait_until(lambda: (s := loop())["ticks"] >= 20 and s, timeout=30, message="20 ticks")
        cpu, work = status["cpu_ms"], status["work_ms"]
        assert set(cpu) == {"p50", "p99", "max"}
        assert all(isinstance(cpu[k], float) and cpu[k] >= 0 for k in cpu)
        # CPU time is spent inside the tick, so it cannot exceed the tick's wall time (1 ms of rounding slack)
        assert cpu["max"] <= work["max"] + 1.0 and cpu["p50"] <= work["p50"] + 1.0
        assert status["target_hz"] == 120
