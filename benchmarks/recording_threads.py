"""Does an in-process, thread-based recorder keep a control loop punctual?

A 30 Hz absolute-deadline loop on the main thread feeds N rendered sim cameras (default 3 x 640x480,
a moving arm) into EpisodeRecorder, saving an episode every few seconds, then drains a full ring
buffer into a new episode (the highlight ``mark``). Printed, not judged:

* loop lateness (wake-up time minus deadline) p50/p99/max, without and with the recorder;
* add_frame / save_episode / start_episode(prefix) call times on the loop thread;
* encoder capacity (frames/s per camera while busy) and headroom vs the required rate, measured both
  in isolation (all cameras encoding flat out in parallel) and live;
* backlog peak, dropped frames, time from save_episode to durable, CPU use;
* a *probe*: the same deadline loop in a separate process, running at the same time. It sees the same
  machine load and the same (niced) encoder threads but not our GIL, so it is what the control loop
  would get if the recorder ran in a subprocess (minus the cost of shipping frames there). Comparing
  the two, taken side by side under the same load, is how threads vs subprocess is decided.

Usage: .venv/bin/python benchmarks/recording_threads.py [--seconds 30] [--cameras 3] [--vcodec libsvtav1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

VIEWS = ("front", "top", "side")


def probe_main(seconds: float, hz: float) -> None:
    """``--probe``: an empty deadline loop in its own process; prints its lateness values as JSON."""
    sys.setswitchinterval(0.0005)
    stats: dict[str, list[float]] = {"lateness": [], "work": []}
    control_loop(seconds, hz, lambda k: None, stats)
    print(json.dumps(stats["lateness"]))


def start_probe(seconds: float, hz: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--probe", str(seconds), str(hz)], stdout=subprocess.PIPE,
                            text=True)


def probe_result(proc: subprocess.Popen) -> list[float]:
    out, _ = proc.communicate(timeout=600)
    return json.loads(out)


def render_clip(cameras: int, width: int, height: int, frames: int, fps: float) -> list:
    """``frames`` images per camera of the sim arm sweeping through its range (the loop cycles them)."""
    import numpy as np
    from rollout_console.hardware.sim.kinematics import HOME, JOINT_NAMES
    from rollout_console.hardware.sim.render import SceneRenderer
    from rollout_console.hardware.sim.world import SimWorld

    world = SimWorld(seed=1, start_time=0.0)
    renderers = [SceneRenderer(VIEWS[i % 3], width, height) for i in range(cameras)]
    home = np.array([HOME[n] for n in JOINT_NAMES])
    clip: list[list] = [[] for _ in range(cameras)]
    for i in range(frames):
        t = (i + 1) / fps
        goal = home + np.array([40 * np.sin(t), 25 * np.sin(0.7 * t), 30 * np.sin(1.3 * t), 20 * np.cos(t), 0,
                                20 * np.sin(2 * t)])
        world.set_goal(goal, t)
        world.advance(t)
        state = world.snapshot(t)
        for c, renderer in enumerate(renderers):
            clip[c].append(renderer.render(state))
    return clip


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def describe(name: str, values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (f"{name:<34} p50 {pct(ms, 50):7.3f} ms  p99 {pct(ms, 99):7.3f} ms  max {max(ms, default=0):7.3f} ms"
            f"  (n={len(ms)})")


def isolated_encoder_fps(clip: list, fps: float, settings, workdir: Path) -> float:
    """All cameras encoding flat out in parallel threads: aggregate frames per second."""
    from rollout_console.recording.video import VideoFileEncoder

    counts = []

    def work(c: int) -> None:
        encoder = VideoFileEncoder(workdir / f"iso{c}.mp4", clip[c][0].shape[1], clip[c][0].shape[0], fps, settings)
        for image in clip[c]:
            encoder.encode(image)
        counts.append(encoder.close())

    threads = [threading.Thread(target=work, args=(c,)) for c in range(len(clip))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - started)


def control_loop(seconds: float, fps: float, tick, stats: dict[str, list[float]]) -> None:
    """Absolute-deadline loop: next deadline = start + k / fps, never drifting."""
    period = 1.0 / fps
    start = time.perf_counter()
    k = 0
    while True:
        k += 1
        deadline = start + k * period
        if k * period >= seconds:
            return
        now = time.perf_counter()
        if deadline > now:
            time.sleep(deadline - now)
        woke = time.perf_counter()
        stats["lateness"].append(max(0.0, woke - deadline))
        tick(k)
        stats["work"].append(time.perf_counter() - woke)


def policy_work(rng):
    """A small, realistic amount of per-tick numpy work (feature packing and a tiny MLP)."""
    import numpy as np

    x = rng.standard_normal(64).astype(np.float32)
    w = rng.standard_normal((64, 64)).astype(np.float32)
    for _ in range(4):
        x = np.tanh(w @ x)
    return x[:6]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) == 3 and argv[0] == "--probe":
        probe_main(float(argv[1]), float(argv[2]))
        return 0
    import numpy as np
    from rollout_console.features import FeatureLayout
    from rollout_console.hardware.sim.kinematics import JOINT_NAMES
    from rollout_console.recording import (
        EpisodeRecorder,
        FrameRing,
        RecorderSpec,
        VideoSettings,
        dataset_features,
    )

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0, help="recording phase length")
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--episode-seconds", type=float, default=10.0)
    parser.add_argument("--ring-seconds", type=float, default=10.0, help="highlight drain size at the end")
    parser.add_argument("--cameras", type=int, default=3)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--fps", type=float, default=30.0, help="recording (dataset) rate")
    parser.add_argument("--loop-hz", type=float, default=None,
                        help="control loop rate (default: --fps); frames are recorded every loop_hz/fps ticks")
    parser.add_argument("--vcodec", choices=("libsvtav1", "h264"), default="libsvtav1")
    parser.add_argument("--gop", type=int, default=2)
    parser.add_argument("--preset", default=None)
    parser.add_argument("--switch-interval-ms", type=float, default=0.5)
    parser.add_argument("--clip-frames", type=int, default=120)
    parser.add_argument("--quick", action="store_true", help="10 s recording phase")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.baseline_seconds = 10.0, 5.0

    sys.setswitchinterval(args.switch_interval_ms / 1000)
    loop_hz = args.loop_hz or args.fps
    every = max(1, round(loop_hz / args.fps))
    workdir = Path(tempfile.mkdtemp(prefix="recbench-"))
    settings = VideoSettings(vcodec=args.vcodec, gop=args.gop, preset=args.preset)
    print(f"cores: {os.cpu_count()}  cameras: {args.cameras} x {args.width}x{args.height} @ {args.fps:g} Hz  "
          f"codec: {args.vcodec} preset {settings.options()['preset']} gop {args.gop}  "
          f"switchinterval {args.switch_interval_ms} ms  loop {loop_hz:g} Hz (records every {every} ticks)")
    clip = render_clip(args.cameras, args.width, args.height, args.clip_frames, args.fps)
    needed = args.cameras * args.fps
    try:
        iso = isolated_encoder_fps(clip, args.fps, settings, workdir)
        print(f"isolated encoders (all cameras in parallel): {iso:7.1f} frames/s  -> headroom {iso / needed:4.2f}x "
              f"of the {needed:g} frames/s needed")

        rng = np.random.default_rng(0)
        layout = FeatureLayout(tuple(f"{n}.pos" for n in JOINT_NAMES), ("env.x", "env.y"),
                               {f"cam{c}": (args.height, args.width, 3) for c in range(args.cameras)},
                               tuple(f"{n}.pos" for n in JOINT_NAMES))
        state = np.zeros(6, np.float32)

        def frame_for(k: int) -> dict:
            frame = {"observation.state": state + k * 0.01, "observation.environment_state": np.zeros(2, np.float32),
                     "action": policy_work(rng)}
            for c in range(args.cameras):
                frame[f"observation.images.cam{c}"] = clip[c][k % len(clip[c])]
            return frame

        baseline = {"lateness": [], "work": []}
        control_loop(args.baseline_seconds, loop_hz, lambda k: frame_for(k // every), baseline)

        spec = RecorderSpec(root=workdir / "ds", repo_id="bench/recording", fps=args.fps,
                            features=dataset_features(layout, True, False), robot_type="sim", video=settings,
                            extras={"outcome": "string"})
        events: list[tuple[str, dict]] = []
        recorder = EpisodeRecorder.create(spec, on_event=lambda kind, data: events.append((kind, data)))
        live = {"lateness": [], "work": [], "add_frame": [], "save": [], "backlog": [], "encoder_fps": []}
        per_episode = max(1, round(args.episode_seconds * args.fps))
        futures: list[tuple[float, object]] = []
        cpu0 = time.process_time()
        wall0 = time.perf_counter()

        def tick(tick_index: int) -> None:
            if tick_index % every:
                policy_work(rng)  # an interpolated command tick: nothing is recorded
                return
            k = tick_index // every
            frame = frame_for(k)
            if k == 1:
                recorder.start_episode("bench")
            t0 = time.perf_counter()
            recorder.add_frame(frame)
            live["add_frame"].append(time.perf_counter() - t0)
            if k % per_episode == 0:
                t0 = time.perf_counter()
                futures.append((time.perf_counter(), recorder.save_episode({"outcome": "success"})))
                recorder.start_episode("bench")
                live["save"].append(time.perf_counter() - t0)
            if k % 15 == 0:
                status = recorder.status()
                live["backlog"].append(status["backlog_s"])
                if status["encoder_fps"]:
                    live["encoder_fps"].append(status["encoder_fps"])

        probe = start_probe(args.seconds, loop_hz)
        control_loop(args.seconds, loop_hz, tick, live)
        probe_live = probe_result(probe)
        cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0)
        futures.append((time.perf_counter(), recorder.save_episode({"outcome": "success"})))

        # highlight: a full ring drained into a new episode while the loop keeps running
        ring = FrameRing(args.ring_seconds, args.fps, max_bytes=8 << 30, jpeg_quality=90)
        ring_stats = {"lateness": [], "work": [], "append": [], "drain": []}
        ring_ticks = round(args.ring_seconds * args.fps)

        def ring_tick(tick_index: int) -> None:
            if tick_index % every:
                policy_work(rng)
                return
            k = tick_index // every
            frame = frame_for(k)
            if k <= ring_ticks:
                t0 = time.perf_counter()
                ring.append(frame)
                ring_stats["append"].append(time.perf_counter() - t0)
            elif k == ring_ticks + 1:
                t0 = time.perf_counter()
                recorder.start_episode("bench", prefix_frames=ring.drain())
                ring_stats["drain"].append(time.perf_counter() - t0)
                recorder.add_frame(frame)
            else:
                recorder.add_frame(frame)

        probe = start_probe(args.ring_seconds * 2, loop_hz)
        control_loop(args.ring_seconds * 2, loop_hz, ring_tick, ring_stats)
        probe_ring = probe_result(probe)
        compressed = ring.compressed_frames
        futures.append((time.perf_counter(), recorder.save_episode({"outcome": "success"})))
        for _, future in futures:
            future.result(timeout=600)
        durable = [data["save_latency_s"] for kind, data in events if kind == "episode_saved"]
        status = recorder.status()
        recorder.close()
        ring.close()

        print()
        print(describe("loop lateness, no recorder", baseline["lateness"]))
        print(describe("loop lateness, recording", live["lateness"]))
        print(describe("  same time, probe process", probe_live))
        print(describe("loop lateness, ring + drain + rec", ring_stats["lateness"]))
        print(describe("  same time, probe process", probe_ring))
        print(describe("add_frame call", live["add_frame"]))
        print(describe("save_episode + start_episode call", live["save"]))
        print(describe("ring append call", ring_stats["append"]))
        print(describe("drain + start_episode(prefix) call", ring_stats["drain"]))
        print(f"{'save_episode -> durable':<34} " + ", ".join(f"{d:.2f} s" for d in durable) +
              "  (the last two include the ring drain and the end of the run)")
        enc = live["encoder_fps"]
        if enc:
            print(f"{'live encoder throughput (slowest)':<34} median {statistics.median(enc):6.1f} frames/s "
                  f"per camera (input {args.fps:g})")
        print(f"{'encoder backlog while recording':<34} max {max(live['backlog'], default=0):.2f} s")
        print(f"{'dropped frames':<34} {status['dropped_frames']}  (events: "
              f"{sorted({k for k, _ in events})})")
        print(f"{'ring JPEG-compressed frames':<34} {compressed} of {ring_ticks}")
        print(f"{'process CPU while recording':<34} {cpu * 100:.0f}% of one core")
        over = sum(1 for v in live["lateness"] if v > 1 / loop_hz / 2)
        print(f"{'ticks later than half a period':<34} {over} of {len(live['lateness'])}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
