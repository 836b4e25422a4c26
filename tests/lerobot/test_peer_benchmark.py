"""The peer benchmark's parts (benchmarks/peer) stay honest: the plugin arm, its trace, the figures, the flags.

The arm is made by LeRobot's own factory and timed by its own trace; LeRobot's plugin discovery finds it
from the site folder the runners put on PYTHONPATH; the trace analysis gives the right figures for a
trace whose answer is known; and the console accepts the flags the runners give it. (The benchmark
runs themselves take minutes: ``python -m benchmarks peer|heavy``.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.robots.utils import make_robot_from_config
from rollout_console.config import load_config

from benchmarks.peer import checkpoint
from benchmarks.peer.peer_arm import PeerArm, PeerArmConfig, PeerCameraConfig
from benchmarks.peer.plugin_site import install_plugin
from benchmarks.peer.runners import REPO, RunResult, RunSpec, Setup, console_flags, lerobot_args
from benchmarks.peer.table import render
from benchmarks.peer.trace import analyze, load_trace

JOINTS = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")


def test_trace_figures_of_a_known_trace() -> None:
    period = 1 / 30
    sends = list(np.arange(150) * period)  # 5 s at 30 Hz ...
    sends += list(sends[-1] + 0.4 + np.arange(150) * period)  # ... a 400 ms hole (a blocking save) ...
    figures = analyze(sends, 30.0, saves=[(sends[149] + 0.01, sends[150] - 0.01), (1.0, 1.0)])
    assert figures.commands == 300
    assert figures.command_hz == pytest.approx(299 / (sends[-1] - sends[0]))
    assert figures.jitter_max_ms == pytest.approx((0.4 - period) * 1000)
    assert figures.jitter_p99_ms < 1e-6 + (0.4 - period) * 1000
    assert figures.save_gaps_ms == pytest.approx([400.0, period * 1000])  # the hole; a save the loop did not feel
    with pytest.raises(ValueError, match="never drove the robot"):
        analyze([1.0], 30.0)


def test_the_arm_through_lerobots_factory_traces_every_command(tmp_path) -> None:
    trace_path = tmp_path / "trace.json"
    config = PeerArmConfig(cameras={"front": PeerCameraConfig(view="front", width=64, height=48, fps=30)},
                           trace_path=str(trace_path))
    robot = make_robot_from_config(config)
    assert isinstance(robot, PeerArm) and robot.is_calibrated
    robot.connect()
    try:
        observation = robot.get_observation()
        assert set(observation) == {*(f"{j}.pos" for j in JOINTS), "front"}
        assert observation["front"].shape == (48, 64, 3) and observation["front"].dtype == np.uint8
        with pytest.raises(TimeoutError, match="old"):  # a stale frame raises, as with LeRobot's OpenCV camera
            robot.cameras["front"].read_latest(max_age_ms=-1)
        for step in range(5):
            sent = robot.send_action({f"{j}.pos": float(step) for j in JOINTS})
            assert set(sent) == {f"{j}.pos" for j in JOINTS}
    finally:
        robot.disconnect()
    trace = load_trace(trace_path)
    assert len(trace["sends"]) == 5 and trace["sends"] == sorted(trace["sends"])
    assert getattr(LeRobotDataset.save_episode, "_peer_timed", False)  # lerobot-rollout's saves get timed


def test_lerobot_discovers_the_plugin_from_the_site(tmp_path) -> None:
    site = install_plugin(tmp_path / "site")
    code = ("from lerobot.utils.import_utils import register_third_party_plugins as r; r(); "
            "from lerobot.robots import RobotConfig; from lerobot.cameras import CameraConfig; "
            "print(RobotConfig.get_choice_class('peer_arm').__name__, CameraConfig.get_choice_class('peer_camera').__name__)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in (site, REPO / "server", REPO))}
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300,
                           cwd=tmp_path, check=False)
    assert found.stdout.split() == ["PeerArmConfig", "PeerCameraConfig"], found.stderr[-2000:]


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory) -> Setup:
    base = tmp_path_factory.mktemp("peer")
    ckpt = checkpoint.build(base / "act", height=48, width=64, dim_model=64, dim_feedforward=128, n_heads=4,
                            n_encoder_layers=1, n_decoder_layers=1, n_vae_encoder_layers=1)
    return Setup(Path(sys.executable), install_plugin(base / "site"), ckpt)


def test_the_console_accepts_the_runners_flags(tiny_setup, tmp_path) -> None:
    spec = RunSpec("console", "sentry", "async", 5.0, extra=("--loop.stats_window_s=20",), camera_size=(48, 64))
    cfg = load_config(console_flags(tiny_setup, spec, tmp_path, port=8123))
    assert cfg.robot.type == "peer_arm" and cfg.strategy.type == "sentry" and cfg.duration == 5.0
    assert cfg.loop.stats_window_s == 20  # extra flags reach the console
    assert cfg.inference.type == "rtc" and cfg.inference.rtc.guidance is False
    assert cfg.dataset.root == str(tmp_path / "dataset") and cfg.dataset.push_to_hub is False
    sync = load_config(console_flags(tiny_setup, RunSpec("console", "base", "sync", 5.0), tmp_path, port=8123))
    assert sync.inference.type == "sync" and sync.dataset is None
    args = lerobot_args(tiny_setup, RunSpec("lerobot", "sentry", "sync", 5.0), tmp_path)
    assert Path(args[0]).name == "lerobot-rollout" and "--strategy.type=sentry" in args


def test_the_table_shows_ranges_and_ratios() -> None:
    from benchmarks.peer.trace import TraceFigures

    def result(program: str, inference: str, hz: float) -> RunResult:
        trace = TraceFigures(100, 10.0, hz, 5.0, 20.0, 50.0, [])
        return RunResult(RunSpec(program, "base", inference, 10.0), trace=trace)

    table = render([result("lerobot", "sync", 20.0), result("lerobot", "sync", 22.0),
                    result("console", "async", 30.0)], 30.0)
    line = next(row for row in table.splitlines() if row.startswith("| base: command rate"))
    assert line.split(" | ")[1:] == ["20.0-22.0", "—", "30.0", "—", "x1.43 |"]
    paused = result("console", "sync", 30.0)
    paused.status = {"inference": {}}
    paused.events = [{"kind": "notice", "data": {"message": "paused: stale camera input top (563 ms old)"}}]
    line = next(row for row in render([paused], 30.0).splitlines() if row.startswith("| base: command rate"))
    assert line.split(" | ")[2] == "30.0 [1 run(s) paused]"  # holds after a pause are not the policy's rate
