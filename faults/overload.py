"""Overload: CPU hogs beside the console, three cameras recording, four preview viewers, sentry.

What must hold: no session error, ever; every acknowledged episode in the dataset; the dataset
verifies after a graceful stop; whatever the machine could not keep up with is said (backlog cuts,
dropped frames) instead of crashing. The figures say how much was given up.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .common import console, lost, sentry_flags, wait_for


@dataclass
class OverloadFigures:
    seconds: float
    hogs: int
    passed: bool = False
    errors: int = 0
    phases: set[str] = field(default_factory=set)
    acknowledged: int = 0
    lost: int = 0
    cut_episodes: int = 0
    dropped_frames: int = 0
    recording_failures: int = 0
    viewer_frames: list[int] = field(default_factory=list)
    lateness_p99_ms: float | None = None
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        notes = f" ({'; '.join(self.notes)})" if self.notes else ""
        return (f"overload ({self.hogs} CPU hogs, 3 cameras, 4 viewers, {self.seconds:.0f} s): {verdict}; "
                f"{self.errors} session errors; {self.acknowledged} episodes acknowledged, {self.lost} lost, "
                f"{self.cut_episodes} cut by backlog; {self.dropped_frames} frames dropped (said so); "
                f"{self.recording_failures} recording failures; viewer frames {self.viewer_frames}; loop lateness "
                f"p99 {self.lateness_p99_ms} ms{notes}")


def _hogs(count: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def _viewer(url: str, camera: str, stop: threading.Event, counts: list[int], slot: int) -> None:
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    try:
        with connect(f"{url.replace('http', 'ws', 1)}/api/v1/cameras/{camera}/ws", open_timeout=30,
                     max_size=None) as socket:
            while not stop.is_set():
                try:
                    message = socket.recv(timeout=1.0)
                except TimeoutError:
                    continue
                if isinstance(message, bytes):
                    counts[slot] += 1
    except (OSError, WebSocketException):
        return  # the console went away at the end of the run


def run(base: Path, seconds: float, hogs: int = 2, episode_s: float = 0.5, small: bool = False) -> OverloadFigures:
    from rollout_console.recording import verify_dataset

    figures = OverloadFigures(seconds, hogs)
    root = base / "overload"
    flags = sentry_flags(root, episode_s=episode_s, cameras="front,top,side")
    flags += ["--dataset.vcodec=libsvtav1", "--dataset.max_encoder_backlog_s=3"]
    if not small:  # the full-size cameras of the report, not the test's small ones
        flags = [f for f in flags if not f.startswith(("--robot.camera_width", "--robot.camera_height"))]
    hog_procs = _hogs(hogs)
    stop = threading.Event()
    try:
        with console(flags) as con:
            counts = [0, 0, 0, 0]
            viewers = [threading.Thread(target=_viewer, args=(con.url, cam, stop, counts, i), daemon=True)
                       for i, cam in enumerate(("front", "top", "side", "front"))]
            for viewer in viewers:
                viewer.start()
            until = time.monotonic() + seconds
            seq = 0
            kinds: dict[str, int] = {}
            while time.monotonic() < until:
                for event in con.events(since=seq):  # read as they come: the server's buffer is bounded
                    seq = max(seq, int(event["seq"]))
                    kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
                status = con.status()
                if status:
                    figures.phases.add(status["phase"])
                    if status["phase"] == "error" or status.get("error"):
                        figures.errors += 1
                        figures.notes.append(f"error: {status.get('error')}")
                        break
                    if status["phase"] == "paused" and status.get("notice"):
                        figures.notes.append(f"paused on its own: {status['notice']}")
                        con.command("resume")
                time.sleep(0.5)
            known = con.acknowledged()
            episodes = con.get("/api/v1/episodes")["data"]
            for event in con.events(since=seq):
                kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
            status = con.status() or {}
            figures.dropped_frames = int((status.get("recording") or {}).get("dropped_frames") or 0)
            figures.lateness_p99_ms = (status.get("loop") or {}).get("lateness_ms", {}).get("p99")
            stop.set()
            con.proc.terminate()
            con.proc.wait(timeout=300)
            figures.viewer_frames = list(counts)
    finally:
        stop.set()
        for proc in hog_procs:
            proc.kill()
            proc.wait()
    figures.acknowledged = len(known)
    figures.lost = len(lost(known, root))
    figures.errors += kinds.get("error", 0)
    figures.cut_episodes = sum(1 for e in episodes if e.get("cut"))
    figures.recording_failures = kinds.get("recording_failed", 0)
    report = verify_dataset(root)
    problems = []
    if figures.errors:
        problems.append("the session reported errors")
    if figures.lost or not report.ok:
        problems.append(f"lost {figures.lost}; verify: {report.errors[:3]}")
    if not known:
        problems.append("no episode was saved")
    if not wait_for(lambda: all(counts), 0.01) and not all(counts):
        problems.append("a viewer received no frame")
    figures.passed = not problems
    figures.notes.extend(problems)
    return figures
