"""Human-in-the-loop latencies: input -> phase change for a page click, a REST call and a pedal press,
and lease lapse -> paused.

Run: python -m benchmarks.hil [--quick]
The console runs in this process (uvicorn in a thread) so the pedal can be fed real evdev events;
the page click runs in Debian's Chromium and is timed inside the page (click -> phase shown).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any

import httpx
from evdev import ecodes
from websockets.sync.client import connect

from .common import header, pct, row


def _server(flags: list[str], **options: Any):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers import config, live_server

    return live_server(config(*flags, small=False), **options)


class PhaseWatch:
    """perf_counter() at which each phase change event was published (subscribed on the session)."""

    def __init__(self, session: Any) -> None:
        self.changes: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        session.events.subscribe(self._on)

    def _on(self, event: Any) -> None:
        if event.kind == "phase_changed":
            with self._cond:
                self.changes.append((time.perf_counter(), event.data["phase"]))
                self._cond.notify_all()

    def wait_for(self, phase: str, after: float, timeout: float = 5.0) -> float:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for at, seen in self.changes:
                    if seen == phase and at >= after:
                        return at
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no change to {phase}")
                self._cond.wait(remaining)


def rest_and_pedal(count: int) -> tuple[list[float], list[float]]:
    from rollout_console.inputs.device import MemoryPedalDevice, MemoryPedalOpener

    opener = MemoryPedalOpener()
    device = opener.plug(MemoryPedalDevice(key_codes=[ecodes.KEY_A, ecodes.KEY_B, ecodes.KEY_C]))
    rest, pedal = [], []
    with _server(["--pedal.enabled=true"], pedal_opener=opener) as live, httpx.Client(base_url=live.url) as client:
        watch = PhaseWatch(live.session)
        time.sleep(1.5)
        for i in range(count):
            name, phase = ("pause", "paused") if i % 2 == 0 else ("resume", "autonomous")
            t0 = time.perf_counter()
            assert client.post(f"/api/v1/commands/{name}").json()["phase"] == phase
            rest.append((time.perf_counter() - t0) * 1000.0)
            time.sleep(0.02)
        if live.session.phase.value != "autonomous":
            client.post("/api/v1/commands/resume")
        time.sleep(0.2)
        for i in range(count):
            phase = "paused" if i % 2 == 0 else "autonomous"
            seq = device.push(ecodes.KEY_A, 1)
            device.push(ecodes.KEY_A, 0)
            pushed = device.pushed_at[seq]
            pedal.append((watch.wait_for(phase, pushed) - pushed) * 1000.0)
            time.sleep(0.05)
    return rest, pedal


def lease_lapse(count: int, timeout_s: float) -> list[float]:
    """Seconds from the lapse (last heartbeat + timeout) to the session being paused."""
    late = []
    with _server([f"--lease.timeout_s={timeout_s}", f"--lease.heartbeat_s={timeout_s / 3:.3f}"]) as live:
        watch = PhaseWatch(live.session)
        time.sleep(1.0)
        for i in range(count):
            with connect(live.ws_url + f"/api/v1/ws?client=bench-{i}") as ws:
                ws.send(json.dumps({"type": "lease", "action": "acquire", "id": 1}))
                last_heartbeat = time.perf_counter()  # the acquire is the last sign of life
                paused_at = watch.wait_for("paused", last_heartbeat, timeout=timeout_s + 5)
                late.append((paused_at - last_heartbeat - timeout_s) * 1000.0)
            httpx.post(live.url + "/api/v1/commands/resume")
            time.sleep(0.2)
    return late


def page_clicks(count: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    timings = []
    with _server([]) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page()
        page.goto(live.url)
        page.wait_for_function("document.querySelector('[data-testid=phase]').textContent === 'autonomous'")
        for i in range(count):
            name, phase = ("pause", "paused") if i % 2 == 0 else ("resume", "autonomous")
            page.wait_for_function(f"!document.querySelector('[data-command={name}]').disabled")
            elapsed = page.evaluate(
                """([name, phase]) => new Promise((resolve) => {
                    const el = document.querySelector('[data-testid=phase]');
                    const t0 = performance.now();
                    const obs = new MutationObserver(() => {
                        if (el.textContent === phase) { obs.disconnect(); resolve(performance.now() - t0); }
                    });
                    obs.observe(el, { childList: true, characterData: true, subtree: true });
                    document.querySelector(`[data-command=${name}]`).click();
                })""",
                [name, phase],
            )
            timings.append(float(elapsed))
            page.wait_for_timeout(50)
        browser.close()
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    count = 20 if args.quick else 100
    header("human-in-the-loop: input -> phase change (30 Hz loop, 2 cameras 640x480)")
    clicks = page_clicks(count)
    p50, p99 = pct(clicks, 50, 99)
    row(f"page click ({count})", p50_ms=p50, p99_ms=p99, max_ms=max(clicks))
    rest, pedal = rest_and_pedal(count)
    p50, p99 = pct(rest, 50, 99)
    row(f"REST call ({count})", p50_ms=p50, p99_ms=p99, max_ms=max(rest))
    p50, p99 = pct(pedal, 50, 99)
    row(f"pedal press ({count})", p50_ms=p50, p99_ms=p99, max_ms=max(pedal))
    lapses = lease_lapse(5 if args.quick else 20, timeout_s=1.0)
    p50, p99 = pct(lapses, 50, 99)
    row(f"lease lapse -> paused ({len(lapses)})", after_lapse_p50_ms=p50, p99_ms=p99, max_ms=max(lapses),
        bound_ms=500.0)


if __name__ == "__main__":
    main()
