"""Run ``lerobot-rollout`` or the console on the peer arm, in the LeRobot environment, and collect figures.

Both programs are spawned with ``.venv-lerobot/bin/python`` (Python 3.12, LeRobot 0.6.1) and the same
``PYTHONPATH``: the plugin site (``plugin_site.py``), this checkout's ``server/`` (so this checkout's console
runs, not an installed one) and the repository root (``benchmarks.peer``). The orchestration itself runs in
either environment (subprocess, HTTP, JSON).

Figures come from three places: the robot's command trace (rate, jitter, the gap after saves: the same
stopwatch for both programs), the console's ``/api/v1/status`` and ``/api/v1/events`` (starved ticks,
dropped frames, backlog, latency, cuts; polled once a second), and the recorded dataset's ``meta/info.json``
(rows), read after the program has finished.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .plugin_site import install_plugin
from .trace import TraceFigures, analyze, load_trace

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / ".bench" / "peer"
FPS = 30.0
EPISODE_S = 9.1
"""Sentry episode length: LeRobot rotates at ``--strategy.target_video_file_size_mb=1`` after
1 MiB / (640*480 px * 0.1 bit * 30 fps / 8) = 9.1 s; the console gets the same with ``episode_time_s``."""
STARTUP_S = 420.0  # a loaded 2-core machine needs minutes to import torch + LeRobot and load ACT
MISSING = ("skipped: needs LeRobot's Python 3.12 environment .venv-lerobot (create it with `make lerobot-env`, "
           "or set LEROBOT_PYTHON to its python)")


def lerobot_python() -> Path | None:
    """The LeRobot environment's python: $LEROBOT_PYTHON, else ``.venv-lerobot/bin/python``; None if absent."""
    override = os.environ.get("LEROBOT_PYTHON")
    path = Path(override) if override else REPO / ".venv-lerobot" / "bin" / "python"
    return path if path.exists() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Setup:
    """The shared parts of every run: the python, the plugin site and the ACT checkpoint."""

    python: Path
    site: Path
    checkpoint: Path
    latency_s: list[float] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        path = os.pathsep.join(str(p) for p in (self.site, REPO / "server", REPO))
        return {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                "HF_LEROBOT_HOME": str(WORK / "hf"), "PYTHONUNBUFFERED": "1"}


def prepare(python: Path, measure: int = 3, work: Path = WORK) -> Setup:
    """Install the plugin and build (once; cached in ``work/act``) the ACT checkpoint; time a few chunks."""
    site = install_plugin(work / "site")
    setup = Setup(python, site, work / "act")
    out = subprocess.run([str(python), "-m", "benchmarks.peer.checkpoint", str(setup.checkpoint),
                          f"--measure={measure}"], check=False, capture_output=True, text=True, cwd=REPO,
                         env=setup.env(), timeout=STARTUP_S + 120 * measure)
    if out.returncode != 0:
        raise RuntimeError(f"building the ACT checkpoint failed:\n{out.stderr[-3000:]}")
    setup.latency_s = json.loads(out.stdout.strip().splitlines()[-1])["latency_s"]
    return setup


def camera_flag(width: int = 640, height: int = 480, fps: float = FPS) -> str:
    cams = ", ".join(f"{view}: {{type: peer_camera, view: {view}, width: {width}, height: {height}, fps: {fps:g}}}"
                     for view in ("front", "top"))
    return f"--robot.cameras={{{cams}}}"


@dataclass
class RunSpec:
    program: str  # "lerobot" (lerobot-rollout) or "console"
    strategy: str  # "base" or "sentry"
    inference: str  # "sync" or "async" (console only: --inference.type=rtc --inference.rtc.guidance=false)
    seconds: float
    fps: float = FPS
    extra: tuple[str, ...] = ()  # more flags for the program
    camera_size: tuple[int, int] = (480, 640)  # height, width of both cameras (the checkpoint's input size)

    @property
    def label(self) -> str:
        name = "lerobot-rollout" if self.program == "lerobot" else "console"
        return f"{name} {self.inference} {self.strategy}"


@dataclass
class RunResult:
    spec: RunSpec
    trace: TraceFigures | None = None
    rows: int | None = None
    rows_per_s: float | None = None
    status: dict[str, Any] = field(default_factory=dict)  # the console's last status while running
    events: list[dict[str, Any]] = field(default_factory=list)
    backlog_max_s: float | None = None
    error: str | None = None
    run_dir: Path | None = None

    def figure(self, name: str) -> float | None:
        """One named figure of the run (None where the program has no such figure)."""
        status, trace = self.status, self.trace
        inference = status.get("inference") or {}
        recording = status.get("recording") or {}
        latency = inference.get("latency_ms") or {}
        values: dict[str, float | None] = {
            "command_hz": trace.command_hz if trace else None,
            "jitter_p99_ms": trace.jitter_p99_ms if trace else None,
            "jitter_max_ms": trace.jitter_max_ms if trace else None,
            "save_gap_ms": trace.save_gap_max_ms if trace and trace.save_gaps_ms else None,
            "rows_per_s": self.rows_per_s,
            "dropped": recording.get("dropped_frames") if self.spec.program == "console" else None,
            "starved": inference.get("starved_ticks") if self.spec.program == "console" else None,
            "cuts": float(sum(e["kind"] == "encoder_backlog" for e in self.events)) if self.events else (
                0.0 if self.spec.program == "console" and self.status else None),
            "latency_p50_ms": latency.get("p50"), "latency_p95_ms": latency.get("p95"),
            "backlog_max_s": self.backlog_max_s,
            "pauses": float(len(self.notices())) if self.spec.program == "console" and self.status else None,
        }
        return values[name]

    def notices(self) -> list[str]:
        """What the console said when it paused on its own (stale camera, recording error, ...)."""
        return [str(e["data"].get("message")) for e in self.events
                if e["kind"] == "notice" and str(e["data"].get("message", "")).startswith("paused")]


def _dataset_rows(root: Path) -> int | None:
    info = root / "meta" / "info.json"
    if not info.exists():
        return None
    return int(json.loads(info.read_text()).get("total_frames", 0))


def _finish(result: RunResult, trace_path: Path, saves: list[tuple[float, float]] | None, dataset: Path | None,
            log: Path, skip: int = 0) -> RunResult:
    """Figures from the trace and the dataset. ``skip``: leading commands that were holds before the first
    chunk (the console holds the arm while it waits; lerobot-rollout sends nothing), left out of the timing
    figures so both programs are timed from their first policy action; rows per wall second use the whole
    trace."""
    spec = result.spec
    if not trace_path.exists():
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        result.error = result.error or f"no command trace (the robot was never disconnected cleanly)\n{tail}"
        return result
    trace = load_trace(trace_path)
    if saves is None:
        saves = [(s, e) for s, e in trace["saves"]]
    try:
        result.trace = analyze(trace["sends"][skip:], spec.fps, saves)
    except ValueError as exc:
        result.error = str(exc)
        return result
    sends = trace["sends"]
    if dataset is not None:
        result.rows = _dataset_rows(dataset)
        if result.rows is not None and sends[-1] > sends[0]:
            result.rows_per_s = result.rows / (sends[-1] - sends[0])
    return result


def lerobot_args(setup: Setup, spec: RunSpec, run_dir: Path) -> list[str]:
    """``lerobot-rollout``'s command line for a run (its own flag names, LeRobot 0.6.1)."""
    height, width = spec.camera_size
    args = [str(setup.python.parent / "lerobot-rollout"), "--robot.type=peer_arm", "--robot.id=peer",
            camera_flag(width, height, spec.fps), f"--robot.trace_path={run_dir / 'trace.json'}",
            f"--policy.path={setup.checkpoint}", "--policy.device=cpu", "--inference.type=sync", f"--fps={spec.fps:g}",
            f"--duration={spec.seconds:g}", "--return_to_initial_position=false", "--play_sounds=false",
            f"--strategy.type={spec.strategy}"]
    if spec.strategy != "base":
        args += ["--strategy.target_video_file_size_mb=1", "--dataset.repo_id=bench/rollout_peer",
                 f"--dataset.root={run_dir / 'dataset'}", "--dataset.push_to_hub=false", "--dataset.single_task=peer"]
    return args + list(spec.extra)


def run_lerobot(setup: Setup, spec: RunSpec, run_dir: Path) -> RunResult:
    """``lerobot-rollout`` (LeRobot 0.6.1) for ``spec.seconds`` (its ``--duration``), sync inference."""
    run_dir.mkdir(parents=True, exist_ok=True)
    trace, dataset, log = run_dir / "trace.json", run_dir / "dataset", run_dir / "program.log"
    args = lerobot_args(setup, spec, run_dir)
    result = RunResult(spec, run_dir=run_dir)
    with log.open("w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=run_dir, env=setup.env())
        try:
            code = proc.wait(timeout=spec.seconds + STARTUP_S)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
            result.error = f"lerobot-rollout ran past {spec.seconds + STARTUP_S:.0f} s and was interrupted"
    if code != 0 and result.error is None:
        result.error = f"lerobot-rollout exited {code}: " + log.read_text(errors="replace")[-3000:]
    return _finish(result, trace, None, dataset if spec.strategy != "base" else None, log)


def console_flags(setup: Setup, spec: RunSpec, run_dir: Path, port: int) -> list[str]:
    height, width = spec.camera_size
    flags = ["--robot.type=peer_arm", "--robot.id=peer", camera_flag(width, height, spec.fps),
             f"--robot.trace_path={run_dir / 'trace.json'}",
             f"--policy.path={setup.checkpoint}", f"--fps={spec.fps:g}", f"--duration={spec.seconds:g}",
             "--return_to_initial_position=false", f"--strategy.type={spec.strategy}", f"--server.port={port}",
             "--server.log_level=warning", "--server.exit_when_stopped=true"]
    if spec.inference == "async":
        flags += ["--inference.type=rtc", "--inference.rtc.guidance=false"]
    else:
        flags += ["--inference.type=sync"]
    if spec.strategy != "base":
        flags += [f"--strategy.episode_time_s={EPISODE_S}", "--dataset.repo_id=bench/rollout_peer",
                  f"--dataset.root={run_dir / 'dataset'}", "--dataset.push_to_hub=false",
                  "--dataset.stamp_repo_id=false", "--dataset.single_task=peer"]
    return flags + list(spec.extra)


def run_console(setup: Setup, spec: RunSpec, run_dir: Path) -> RunResult:
    """The console (this checkout's) for ``spec.seconds`` (``--duration``), polling status and events."""
    run_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api/v1"
    log = run_dir / "program.log"
    args = [str(setup.python), "-m", "rollout_console", *console_flags(setup, spec, run_dir, port)]
    result = RunResult(spec, run_dir=run_dir)
    events: dict[int, dict[str, Any]] = {}
    backlog = 0.0
    seq = 0
    with log.open("w") as out, httpx.Client(timeout=5) as http:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=setup.env())
        deadline = time.monotonic() + spec.seconds + STARTUP_S
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(1.0)
            try:
                status = http.get(url + "/status").json()
                for event in http.get(url + "/events", params={"since": seq}).json().get("data", []):
                    events[event["seq"]] = event
                    seq = max(seq, event["seq"])
            except (httpx.HTTPError, ValueError):
                continue  # not up yet, or going down
            if status.get("session_id") and status.get("loop"):
                result.status = status
                backlog = max(backlog, float((status.get("recording") or {}).get("backlog_s") or 0.0))
        if proc.poll() is None:
            result.error = f"the console ran past {spec.seconds + STARTUP_S:.0f} s and was stopped"
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if proc.returncode not in (0, None) and result.error is None:
        result.error = f"the console exited {proc.returncode}: " + log.read_text(errors="replace")[-3000:]
    result.events = [events[k] for k in sorted(events)]
    (run_dir / "status.json").write_text(json.dumps(result.status, indent=1))
    (run_dir / "events.json").write_text(json.dumps(result.events, indent=1))
    result.backlog_max_s = backlog if spec.strategy != "base" else None
    trace_path = run_dir / "trace.json"
    saves = None
    if trace_path.exists():
        offset = load_trace(trace_path)["wall_minus_mono"]
        # a save leaves the loop when it is submitted: its start is when it finished minus its latency
        saves = [(e["time"] - e["data"].get("save_latency_s", 0.0) - offset,) * 2
                 for e in result.events if e["kind"] == "episode_saved"]
    waiting = int((result.status.get("inference") or {}).get("waiting_ticks") or 0)
    return _finish(result, trace_path, saves, run_dir / "dataset" if spec.strategy != "base" else None, log,
                   skip=waiting)


def run(setup: Setup, spec: RunSpec, run_dir: Path) -> RunResult:
    return (run_lerobot if spec.program == "lerobot" else run_console)(setup, spec, run_dir)


_BUDGET_KEY = re.compile(r"thread|preset|nice|budget|cpu|priority|realtime", re.IGNORECASE)


def budget_values(status: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every status value whose key speaks of the CPU budget (threads, presets, nice, priority, ...)."""
    found: dict[str, Any] = {}
    for key, value in status.items():
        path = f"{prefix}{key}"
        if _BUDGET_KEY.search(key) and not isinstance(value, dict):
            found[path] = value
        elif isinstance(value, dict):
            if _BUDGET_KEY.search(key):
                found.update({f"{path}.{k}": v for k, v in value.items() if not isinstance(v, (dict, list))})
            found.update({k: v for k, v in budget_values(value, path + ".").items() if k not in found})
    return found
