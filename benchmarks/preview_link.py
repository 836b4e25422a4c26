"""Previews that fit the link: bytes per second per viewer at each preview size, and a viewer on a slow link.

Part of `python -m benchmarks loop_preview` (its camera-preview section); also runnable alone:
    python -m benchmarks.preview_link [--quick] [--seconds=20] [--link=200000]

Figures (measured in this run, on whatever load the machine has; nothing passes or fails):
  - per preview size (Full, Half, Quarter; one viewer of each on every camera): bytes per second and
    frames per second per viewer (the server's own measure, status ``previews``), JPEG bytes per frame,
    encodes per second per size (one per frame and size, whatever the number of viewers);
  - a slow link (a second process reading ``--link`` bytes per second through a 4 kB receive buffer,
    tests/integration/preview_slow_client.py) beside 4 free viewers of every camera: what it gets (frames
    per second, age of its frames capture -> receipt) at Full with and without acknowledgements (``?ack=1``,
    as the page does) and at Quarter; and what the free viewers and the control loop get meanwhile, against
    the same minutes without the slow viewers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from typing import Any

import httpx

from .common import REPO, console, header, pct, row

SLOW_CLIENT = REPO / "tests" / "integration" / "preview_slow_client.py"
SIZES = {"Full": 1.0, "Half": 0.5, "Quarter": 0.25}


class SlowViewer:
    """preview_slow_client.py in its own process: a viewer behind a link of ``rate`` bytes per second."""

    def __init__(self, url: str, camera: str, rate: float, scale: float, acknowledge: bool) -> None:
        ws = url.replace("http://", "ws://") + f"/api/v1/cameras/{camera}/ws?scale={scale:g}"
        self.proc = subprocess.Popen([sys.executable, str(SLOW_CLIENT), ws, str(rate),
                                      *([] if acknowledge else ["noack"])], stdout=subprocess.PIPE, text=True)
        self.ages: list[float] = []
        self.received: list[float] = []  # monotonic receipt times
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            if "age_ms" in message:
                self.ages.append(message["age_ms"])
                self.received.append(time.monotonic())

    def between(self, start: float, end: float) -> tuple[list[float], int]:
        """(frame ages, frame count) of the frames received between ``start`` and ``end`` (monotonic)."""
        chosen = [age for age, at in zip(self.ages, self.received, strict=False) if start <= at <= end]
        return chosen, len(chosen)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


def _free_viewers(url: str, cameras: list[str], count: int) -> Any:
    from .loop_preview import Viewers  # the free viewers of the loop benchmark (one client per camera)

    return Viewers(url, cameras, count)


def _status(url: str) -> dict[str, Any]:
    return httpx.get(url + "/api/v1/status", timeout=10).json()


def sizes_case(seconds: float) -> list[dict[str, Any]]:
    """One viewer of each size on every camera (cameras 640x480 at 30 fps); the server's figures per size."""
    with console("--fps=30") as url:
        time.sleep(2.0)
        cameras = [c["name"] for c in httpx.get(url + "/api/v1/cameras", timeout=10).json()]
        viewers = [SlowViewer(url, camera, 1e9, scale, acknowledge=True)  # an unthrottled link
                   for camera in cameras for scale in SIZES.values()]
        try:
            time.sleep(seconds)
            previews = _status(url)["previews"]
        finally:
            for viewer in viewers:
                viewer.stop()
    results = []
    for name, scale in SIZES.items():
        clients = [c for camera in cameras for c in previews[camera]["clients"] if c["scale"] == scale]
        sizes = [s for camera in cameras for s in previews[camera]["sizes"] if s["scale"] == scale]
        results.append({
            "size": name, "width": sizes[0]["width"], "height": sizes[0]["height"],
            "bytes_per_s": pct([c["bytes_per_s"] for c in clients], 50)[0],
            "fps": pct([c["frames_per_s"] for c in clients], 50)[0],
            "jpeg_bytes": pct([s["jpeg_bytes"] for s in sizes], 50)[0],
            "encodes_per_s": pct([s["encodes_per_s"] for s in sizes], 50)[0],
        })
    return results


def _loop_figures(url: str) -> dict[str, Any]:
    loop = _status(url)["loop"]
    return {"hz": loop["measured_hz"], "p99": loop["lateness_ms"]["p99"], "max": loop["lateness_ms"]["max"],
            "overruns": loop["overruns"]}


def slow_link_case(seconds: float, link: float) -> dict[str, Any]:
    """4 free viewers of every camera for ``seconds``, then the same with three slow viewers of `front`."""
    with console("--fps=30", f"--loop.stats_window_s={seconds}") as url:
        time.sleep(2.0)
        cameras = [c["name"] for c in httpx.get(url + "/api/v1/cameras", timeout=10).json()]
        with _free_viewers(url, cameras, 4) as free:
            frames0, started_at = dict(free.frames), time.monotonic()
            time.sleep(seconds)
            baseline_fps = min((free.frames[k] - frames0[k]) / (time.monotonic() - started_at) for k in frames0)
            baseline_loop = _loop_figures(url)
            overruns0 = baseline_loop["overruns"]
            slow = {
                "Full, acknowledging": SlowViewer(url, "front", link, 1.0, acknowledge=True),
                "Full, not acknowledging": SlowViewer(url, "front", link, 1.0, acknowledge=False),
                "Quarter, acknowledging": SlowViewer(url, "front", link, 0.25, acknowledge=True),
            }
            try:
                time.sleep(min(5.0, seconds / 2))  # the links fill up
                frames0 = dict(free.frames)
                start = started_at = time.monotonic()
                time.sleep(seconds)
                end = time.monotonic()
                elapsed = end - started_at
                with_slow_fps = min((free.frames[k] - frames0[k]) / elapsed for k in frames0)
                with_slow_loop = _loop_figures(url)
                clients = _status(url)["previews"]["front"]["clients"]
                received = {name: viewer.between(start, end) for name, viewer in slow.items()}
            finally:
                for viewer in slow.values():
                    viewer.stop()
    slow_rows = {}
    for name, (ages, count) in received.items():
        scale = 0.25 if name.startswith("Quarter") else 1.0
        acked = name.endswith(", acknowledging")
        # the server's figures for this viewer: the only one of its kind, or (not acknowledging, like the
        # free viewers) the one of its kind that got the fewest bytes
        candidates = [c for c in clients if c["scale"] == scale and c["acknowledged"] == acked]
        server = min(candidates, key=lambda c: c["bytes_per_s"]) if candidates else None
        age50, age99 = pct(ages, 50, 99)
        slow_rows[name] = {"fps": count / elapsed, "age_p50_ms": age50, "age_p99_ms": age99,
                           "server_bytes_per_s": server["bytes_per_s"] if server else float("nan"),
                           "skipped": server["skipped"] if server else float("nan")}
    return {"baseline_fps": baseline_fps, "baseline_loop": baseline_loop, "with_slow_fps": with_slow_fps,
            "with_slow_loop": {**with_slow_loop, "overruns": with_slow_loop["overruns"] - overruns0},
            "slow": slow_rows}


def report(seconds: float, link: float) -> None:
    header(f"preview sizes (one viewer per size on every camera, 640x480 @ 30 fps, {seconds:g} s)")
    for r in sizes_case(seconds):
        row(f"{r['size']} {r['width']}x{r['height']}", bytes_per_s_per_viewer=r["bytes_per_s"],
            fps_per_viewer=r["fps"], jpeg_bytes=r["jpeg_bytes"], encodes_per_s=r["encodes_per_s"])

    header(f"a viewer on a slow link ({link / 1000:g} kB/s) beside 4 free viewers of every camera ({seconds:g} s each)")
    r = slow_link_case(seconds, link)
    base, loaded = r["baseline_loop"], r["with_slow_loop"]
    row("free viewers, no slow viewer", min_fps_per_viewer=r["baseline_fps"], loop_hz=base["hz"],
        lateness_p99_ms=base["p99"], max_ms=base["max"])
    row("free viewers, 3 slow viewers", min_fps_per_viewer=r["with_slow_fps"], loop_hz=loaded["hz"],
        lateness_p99_ms=loaded["p99"], max_ms=loaded["max"], overruns=loaded["overruns"])
    for name, s in r["slow"].items():
        row(f"slow: {name}", fps=s["fps"], frame_age_p50_ms=s["age_p50_ms"], p99_ms=s["age_p99_ms"],
            server_bytes_per_s=s["server_bytes_per_s"], skipped=s["skipped"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 s per case instead of 20")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--link", type=float, default=200_000.0, help="the slow link, bytes per second")
    args = parser.parse_args(argv)
    report(args.seconds or (10.0 if args.quick else 20.0), args.link)


if __name__ == "__main__":
    main()
