"""A loop that cannot hold its rate says so in status: the real rate, the time compression it causes in the
recorded episodes, and what to change (synchronous inference is the usual cause)."""

from __future__ import annotations

import pytest
from helpers import config, wait_until

from rollout_console.protocol.phases import Phase
from rollout_console.runtime import build_session
from rollout_console.runtime.rate import rate_figures


def test_a_held_rate_gives_no_advice() -> None:
    figures = rate_figures(29.9, 30.0, "sync", records=True)
    assert figures == {"target_hz": 30.0, "time_compression": pytest.approx(1.003, abs=1e-3), "advice": None}
    assert rate_figures(None, 30.0, "sync", records=True)["time_compression"] is None


def test_a_slow_sync_loop_names_the_compression_and_the_asynchronous_engine() -> None:
    figures = rate_figures(22.0, 30.0, "sync", records=True)
    assert figures["time_compression"] == pytest.approx(1.364, abs=1e-3)
    advice = figures["advice"]
    assert "22.0 Hz instead of 30 Hz" in advice and "1.36x faster" in advice and "--inference.type=rtc" in advice
    not_recording = rate_figures(22.0, 30.0, "rtc", records=False)["advice"]
    assert "replay" not in not_recording and "--inference.type=rtc" not in not_recording


def test_a_session_stalled_by_sync_inference_reports_it_in_status() -> None:
    # a 400 ms inference every 10 actions: about 14 Hz at best, slower on a loaded machine, never 30
    session = build_session(config("--inference.simulated_latency_ms=400", "--inference.n_action_steps=10",
                                   "--loop.stats_window_s=2"))
    session.start()
    try:
        wait_until(lambda: session.phase is Phase.AUTONOMOUS, timeout=60, message="autonomous")
        wait_until(lambda: (session.status()["loop"]["advice"] or "").find("--inference.type=rtc") >= 0,
                   timeout=60, interval=0.2, message="the advice in status")
        loop = session.status()["loop"]
        assert loop["target_hz"] == 30.0 and loop["time_compression"] > 1.5
    finally:
        session.shutdown(timeout=30)
