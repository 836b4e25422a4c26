"""Foundation benchmarks: loop timing with and without camera viewers, command and preview latency.

Run: python -m benchmarks.loop_preview [--quick] [--seconds=60]
Figures (medians/percentiles measured in this run; nothing here passes or fails):
  - loop lateness p50/p99/max, overruns, measured Hz at 30 and 100 Hz, with 0 and 4 viewers
    (a viewer = one client watching every camera, like a browser tab);
  - the same at 30 Hz with two CPU-bound processes beside the console, with and without
    --loop.realtime=true (SCHED_FIFO; whether it took effect is printed);
  - command latency over 200 REST commands (client round trip, and queue -> applied on the server);
  - preview latency (capture -> client) p50/p99, delivered fps and bytes per second per viewer with 1 and
    4 viewers, and JPEG encodes per second (should not grow with the number of viewers);
  - bytes per second per viewer at each preview size, and a viewer on a slow link beside free viewers
    (benchmarks/preview_link.py: what it gets, and what the others and the loop get meanwhile).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import websockets

from . import preview_link
from .common import console, header, pct, row

HEADER = struct.Struct("<4sId")


class Viewers:
    """N clients, each subscribed to every camera, in a background asyncio thread."""

    def __init__(self, url: str, cameras: list[str], count: int) -> None:
        self.url = url.replace("http://", "ws://")
        self.cameras = cameras
        self.count = count
        self.latencies: dict[tuple[int, str], list[float]] = {}
        self.frames: dict[tuple[int, str], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.started_at = 0.0
        self.stopped_at = 0.0

    def __enter__(self) -> Viewers:
        self._thread.start()
        time.sleep(1.0)  # connect and warm up
        for key in self.frames:
            self.frames[key] = 0
            self.latencies[key] = []
        self.started_at = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped_at = time.monotonic()
        self._stop.set()
        self._thread.join(timeout=10)

    async def _main(self) -> None:
        tasks = [asyncio.create_task(self._view(i, cam)) for i in range(self.count) for cam in self.cameras]
        while not self._stop.is_set():
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _view(self, index: int, camera: str) -> None:
        key = (index, camera)
        self.frames[key] = 0
        self.latencies[key] = []
        async with websockets.connect(f"{self.url}/api/v1/cameras/{camera}/ws", max_size=None) as ws:
            async for packet in ws:
                _, _, captured = HEADER.unpack(packet[:16])
                self.latencies[key].append((time.time() - captured) * 1000.0)
                self.frames[key] += 1

    def fps_per_viewer(self) -> list[float]:
        duration = max(1e-6, self.stopped_at - self.started_at)
        return [self.frames[key] / duration for key in sorted(self.frames)]

    def all_latencies(self) -> list[float]:
        return [v for values in self.latencies.values() for v in values]


def _status(url: str) -> dict[str, Any]:
    return httpx.get(url + "/api/v1/status", timeout=5).json()


@contextlib.contextmanager
def cpu_hogs(count: int) -> Iterator[None]:
    """``count`` CPU-bound processes (``while True: pass``) for the duration of the block."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def loop_case(fps: int, viewers: int, seconds: float, *flags: str) -> dict[str, Any]:
    with console(f"--fps={fps}", f"--loop.stats_window_s={seconds}", *flags) as url:
        time.sleep(2.0)
        cameras = [c["name"] for c in httpx.get(url + "/api/v1/cameras").json()]
        before = _status(url)["loop"]
        if viewers:
            with Viewers(url, cameras, viewers) as v:
                time.sleep(seconds)
            viewer_fps = min(v.fps_per_viewer())
        else:
            time.sleep(seconds)
            viewer_fps = float("nan")
        after = _status(url)["loop"]
    return {
        "fps": fps,
        "viewers": viewers,
        "hz": after["measured_hz"],
        "p50": after["lateness_ms"]["p50"],
        "p99": after["lateness_ms"]["p99"],
        "max": after["lateness_ms"]["max"],
        "overruns": after["overruns"] - before["overruns"],
        "ticks": after["ticks"] - before["ticks"],
        "min_viewer_fps": viewer_fps,
        "realtime": after.get("realtime") or {},
    }


def command_latency(count: int) -> dict[str, float]:
    with console("--fps=30") as url:
        time.sleep(2.0)
        start_seq = _status(url)["event_seq"]
        round_trips = []
        rng = random.Random(0)
        with httpx.Client(base_url=url, timeout=10) as client:
            for i in range(count):
                name = "pause" if i % 2 == 0 else "resume"
                t0 = time.perf_counter()
                response = client.post(f"/api/v1/commands/{name}")
                round_trips.append((time.perf_counter() - t0) * 1000.0)
                assert response.status_code == 200, response.text
                # a random gap keeps the client from phase-locking to the loop's ticks
                time.sleep(rng.uniform(0.005, 0.040))
            events = client.get(f"/api/v1/events?since={start_seq}").json()["data"]
        applied = [e["data"]["latency_ms"] for e in events if e["kind"] == "command"]
    rt50, rt99 = pct(round_trips, 50, 99)
    ap50, ap99 = pct(applied, 50, 99)
    return {"count": count, "rest_p50": rt50, "rest_p99": rt99, "applied_p50": ap50, "applied_p99": ap99,
            "period_ms": 1000 / 30}


def preview_case(viewers: int, seconds: float) -> dict[str, float]:
    with console("--fps=30") as url:
        time.sleep(2.0)
        cameras = [c["name"] for c in httpx.get(url + "/api/v1/cameras").json()]
        encodes_before = {k: v["encodes"] for k, v in _status(url)["previews"].items()}
        t0 = time.monotonic()
        with Viewers(url, cameras, viewers) as v:
            time.sleep(seconds)
            clients = [c for p in _status(url)["previews"].values() for c in p["clients"]]
        elapsed = time.monotonic() - t0
        previews = _status(url)["previews"]
        cam_fps = [c["fps"] for c in _status(url)["cameras"].values()]
    encodes = sum(previews[k]["encodes"] - encodes_before.get(k, 0) for k in previews) / elapsed
    p50, p99 = pct(v.all_latencies(), 50, 99)
    per_viewer = v.fps_per_viewer()
    return {"viewers": viewers, "lat_p50_ms": p50, "lat_p99_ms": p99, "min_fps": min(per_viewer),
            "median_fps": pct(per_viewer, 50)[0], "camera_fps": min(cam_fps), "encodes_per_s": encodes,
            "bytes_per_s": pct([c["bytes_per_s"] for c in clients], 50)[0]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 s per loop case instead of 60")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    seconds = args.seconds or (10.0 if args.quick else 60.0)

    header(f"control loop ({seconds:g} s per case, 2 cameras 640x480 @ 30 fps, sim robot, scripted policy)")
    for fps in (30, 100):
        for viewers in (0, 4):
            r = loop_case(fps, viewers, seconds)
            row(f"{fps} Hz, {viewers} viewers", hz=r["hz"], lateness_p50_ms=r["p50"], p99_ms=r["p99"],
                max_ms=r["max"], overruns=r["overruns"], ticks=r["ticks"],
                **({"min_viewer_fps": r["min_viewer_fps"]} if viewers else {}))

    header(f"control loop under contention (30 Hz, 2 viewers, two CPU-bound processes beside it, {seconds:g} s)")
    for realtime in (False, True):
        with cpu_hogs(2):
            r = loop_case(30, 2, seconds, f"--loop.realtime={str(realtime).lower()}")
        state = r["realtime"]
        taken = "SCHED_FIFO" if state.get("active") else f"not in effect: {state.get('detail')}" if realtime else "off"
        row(f"realtime {taken}", hz=r["hz"], lateness_p50_ms=r["p50"], p99_ms=r["p99"], max_ms=r["max"],
            overruns=r["overruns"], ticks=r["ticks"])

    header("command latency (REST pause/resume alternating, 30 Hz loop)")
    c = command_latency(200)
    row("200 commands", rest_p50_ms=c["rest_p50"], rest_p99_ms=c["rest_p99"], queue_to_applied_p50_ms=c["applied_p50"],
        queue_to_applied_p99_ms=c["applied_p99"], target_p99_ms=c["period_ms"] + 5)

    header("camera previews (capture -> client, 2 cameras, full size)")
    for viewers in (1, 4):
        p = preview_case(viewers, 10.0 if args.quick else 20.0)
        row(f"{viewers} viewer(s)", latency_p50_ms=p["lat_p50_ms"], latency_p99_ms=p["lat_p99_ms"],
            min_fps_per_viewer=p["min_fps"], camera_fps=p["camera_fps"], jpeg_encodes_per_s=p["encodes_per_s"],
            bytes_per_s_per_viewer=p["bytes_per_s"])
    preview_link.report(10.0 if args.quick else 20.0, link=200_000.0)  # sizes, and a viewer on a slow link


if __name__ == "__main__":
    main()
