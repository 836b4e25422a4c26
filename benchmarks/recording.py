"""Recording benchmarks: sentry with 3 cameras 640x480 @ 30 fps, and the highlight ring.

Run: python -m benchmarks.recording [--quick] [--seconds=180]
Figures (one run, medians/percentiles; nothing passes or fails here):
  sentry   dropped frames, frames vs rows per episode (decoded), loop lateness p99 while recording,
           loop stall at save, process CPU (vs the same session without recording), encoder throughput
  highlight seconds of history per 100 MB raw vs JPEG-compressed, loop stall at mark
The session runs in this process, exactly as in production (control loop and encoders share it).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from rollout_console.config import load_config
from rollout_console.recording import FrameRing, verify_dataset
from rollout_console.recording.camera_worker import SPARE_DELAY_S
from rollout_console.runtime import build_session

from .common import header, pct, row

CAMERAS = ["--robot.cameras=front,top,side", "--robot.camera_width=640", "--robot.camera_height=480"]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _stall_of(session: Any, command: str) -> tuple[float, Any]:
    """Max tick work (ms) from submitting ``command`` until the encoders have settled again.

    The window covers the save's flush and the camera workers opening their next (spare) encoders,
    which happens ``SPARE_DELAY_S`` after an episode starts: both compete with the control thread.
    """
    stats = session.loop.stats
    before = stats.ticks
    result = session.submit(command, timeout=60)
    time.sleep(SPARE_DELAY_S + 1.5)
    ticks = stats.ticks - before
    work = stats.work.values()[-max(1, ticks):]
    return float(work.max()) * 1000.0, result


def sentry(seconds: float, saves: int, root: Path) -> dict[str, Any]:
    flags = [*CAMERAS, "--strategy.type=sentry", "--dataset.repo_id=bench/sentry", f"--dataset.root={root}",
             "--dataset.push_to_hub=false", "--dataset.stamp_repo_id=false", f"--loop.stats_window_s={seconds}",
             "--strategy.episode_time_s=60", "--return_to_initial_position=false"]
    session = build_session(load_config(flags))
    session.start()
    time.sleep(3.0)
    cpu0, wall0 = _cpu_seconds(), time.monotonic()
    stalls = []
    interval = seconds / (saves + 1)
    for _ in range(saves):
        time.sleep(interval)
        stall, result = _stall_of(session, "save")
        assert result.accepted, result
        stalls.append(stall)
    time.sleep(max(0.0, seconds - (time.monotonic() - wall0)))
    cpu = (_cpu_seconds() - cpu0) / (time.monotonic() - wall0)
    status = session.status()
    loop = status["loop"]
    recording = status["recording"]
    session.shutdown(timeout=120)
    report = verify_dataset(root)
    episodes = session.strategy.recording.recorder.episodes()
    rows = sum(e.length for e in episodes)
    return {
        "episodes": len(episodes), "rows": rows, "decoded_frames": report.decoded_frames, "cameras": 3,
        "verified": report.ok, "dropped": recording["dropped_frames"], "lateness": loop["lateness_ms"],
        "overruns": loop["overruns"], "hz": loop["measured_hz"], "stalls": stalls, "cpu": cpu,
        "encoder_fps": recording["encoder_fps"], "work_p50": loop["work_ms"]["p50"],
    }


def baseline_cpu(seconds: float) -> tuple[float, dict[str, Any]]:
    session = build_session(load_config([*CAMERAS, f"--loop.stats_window_s={seconds}",
                                         "--return_to_initial_position=false"]))
    session.start()
    time.sleep(3.0)
    cpu0, wall0 = _cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu = (_cpu_seconds() - cpu0) / (time.monotonic() - wall0)
    loop = session.status()["loop"]
    session.shutdown()
    return cpu, loop


def ring_density() -> dict[str, float]:
    """Seconds of 3-camera 640x480 history per 100 MB, raw and JPEG-compressed (sim frames)."""
    from rollout_console.hardware.sim import SimWorld
    from rollout_console.hardware.sim.render import SceneRenderer

    world = SimWorld(seed=0, start_time=0.0)
    renderers = [SceneRenderer(view, 640, 480) for view in ("front", "top", "side")]
    keys = tuple(f"observation.images.{view}" for view in ("front", "top", "side"))
    out = {}
    for label, quality in (("raw", None), ("jpeg90", 90)):
        ring = FrameRing(60.0, 30.0, 10 * 2**30, jpeg_quality=quality, image_keys=keys)
        goal = np.array([30.0, 20.0, 80.0, 70.0, 0.0, 50.0])
        for i in range(150):
            world.set_goal(goal * np.sin(i / 20.0), i / 30.0)
            state = world.snapshot(i / 30.0)
            ring.append({key: r.render(state) for key, r in zip(keys, renderers, strict=True)}
                        | {"observation.state": np.zeros(6, np.float32), "action": np.zeros(6, np.float32)})
        deadline = time.monotonic() + 30
        while quality and ring.bytes_used > 150 * 3 * 640 * 480 * 3 * 0.5 and time.monotonic() < deadline:
            time.sleep(0.1)  # wait for the compressor thread
        time.sleep(0.5)
        per_frame = ring.bytes_used / len(ring)
        out[label] = 100 * 2**20 / (per_frame * 30.0)
        ring.close()
    return out


def highlight_mark_stall(root: Path, ring_seconds: float) -> list[float]:
    flags = [*CAMERAS, "--strategy.type=highlight", "--dataset.repo_id=bench/highlight", f"--dataset.root={root}",
             "--dataset.push_to_hub=false", "--dataset.stamp_repo_id=false",
             f"--strategy.ring_buffer_seconds={ring_seconds}", "--return_to_initial_position=false"]
    session = build_session(load_config(flags))
    session.start()
    stalls = []
    try:
        for _ in range(3):
            time.sleep(ring_seconds + 1.0)  # a full ring
            stall, result = _stall_of(session, "mark")
            assert result.accepted, result
            stalls.append(stall)
            time.sleep(1.0)
            session.submit("save", timeout=60)
    finally:
        session.shutdown(timeout=120)
    return stalls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="30 s instead of 3 minutes")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    seconds = args.seconds or (30.0 if args.quick else 180.0)
    work = Path(tempfile.mkdtemp(prefix="bench-recording-"))
    try:
        header(f"sentry: 3 cameras 640x480 @ 30 fps, libsvtav1, {seconds:g} s, saves every ~{seconds / 6:.0f} s")
        base_cpu, base_loop = baseline_cpu(min(seconds, 30.0))
        r = sentry(seconds, saves=5, root=work / "sentry")
        row("episodes / rows / decoded frames", episodes=r["episodes"], rows=r["rows"],
            decoded=r["decoded_frames"], expected=r["rows"] * r["cameras"], verified=r["verified"])
        row("dropped frames", dropped=r["dropped"], target=0)
        row("loop while recording", hz=r["hz"], lateness_p50_ms=r["lateness"]["p50"], p99_ms=r["lateness"]["p99"],
            max_ms=r["lateness"]["max"], overruns=r["overruns"], target_p99_ms=1.0)
        row("loop without recording (baseline)", lateness_p99_ms=base_loop["lateness_ms"]["p99"],
            max_ms=base_loop["lateness_ms"]["max"])
        s50, s99 = pct(r["stalls"], 50, 100)
        row(f"max tick work in the {SPARE_DELAY_S + 1.5:g} s after each save (5 saves)", p50_ms=s50, max_ms=s99, normal_tick_p50_ms=r["work_p50"],
            target_stall_ms=5.0)
        row("process CPU (cores)", recording=r["cpu"], baseline=base_cpu, of_available=2.0,
            encoder_fps=r["encoder_fps"] or float("nan"), needed_fps=30.0)
        header("highlight ring (3 cameras 640x480 @ 30 fps)")
        density = ring_density()
        row("history per 100 MB", raw_s=density["raw"], jpeg_s=density["jpeg90"],
            ratio=density["jpeg90"] / density["raw"], target_ratio=5.0)
        stalls = highlight_mark_stall(work / "highlight", ring_seconds=10.0 if not args.quick else 3.0)
        m50, m_max = pct(stalls, 50, 100)
        row(f"max tick work in the {SPARE_DELAY_S + 1.5:g} s after each mark (full ring)", p50_ms=m50, max_ms=m_max, marks=len(stalls))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
