"""Small in-memory stand-ins used to drive strategies tick by tick (no threads, no disk, no cameras)."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
from rollout_console.config import load_config
from rollout_console.features import FeatureLayout
from rollout_console.hardware.sim.kinematics import HOME, JOINT_NAMES
from rollout_console.recording import EpisodeInfo
from rollout_console.protocol.events import EventBus
from rollout_console.strategies.context import TickContext

KEYS = tuple(f"{j}.pos" for j in JOINT_NAMES)


class FakeRobot:
    """Joints move halfway to the goal each send; remembers every action sent."""

    name = id = "fake"
    cameras: dict[str, Any] = {}
    is_connected = True

    def __init__(self) -> None:
        self.q = np.array([HOME[n] for n in JOINT_NAMES])
        self.sent: list[np.ndarray] = []

    @property
    def observation_features(self) -> dict[str, Any]:
        return {k: float for k in KEYS}

    @property
    def action_features(self) -> dict[str, Any]:
        return {k: float for k in KEYS}

    def get_observation(self) -> dict[str, float]:
        return {k: float(v) for k, v in zip(KEYS, self.q, strict=True)}

    def send_action(self, action: dict[str, float]) -> dict[str, float]:
        goal = np.array([action[k] for k in KEYS])
        self.sent.append(goal)
        self.q = self.q + (goal - self.q) * 0.5
        return dict(action)


class FakeEngine:
    name = "fake"
    policy_name = "fake"

    def __init__(self) -> None:
        self.step = 0
        self.paused = False

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def reset(self) -> None:
        self.step = 0

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def next_action(self, observation: dict[str, Any]) -> np.ndarray:
        self.step += 1
        return np.array([HOME[n] for n in JOINT_NAMES], dtype=np.float32) + np.float32(self.step % 7)

    def status(self) -> dict[str, Any]:
        return {"engine": "fake", "latency_ms": {"p50": None, "p95": None}}


class FakeLeader:
    name = "fake_leader"
    can_be_driven = True
    is_connected = True

    def __init__(self) -> None:
        self.q = np.array([HOME[n] for n in JOINT_NAMES]) + 10.0
        self.aligned_to: dict[str, float] | None = None

    @property
    def action_features(self) -> dict[str, Any]:
        return {k: float for k in KEYS}

    def get_action(self) -> dict[str, float]:
        return {k: float(v) for k, v in zip(KEYS, self.q, strict=True)}

    def align_to(self, joints: dict[str, float]) -> None:
        self.aligned_to = dict(joints)
        self.q = np.array([joints[k] for k in KEYS])


class FakeRecorder:
    """The EpisodeRecorder surface Recording uses; saves resolve immediately."""

    repo_id = "test/fake"
    root = Path("/nonexistent")
    pending_saves = 0
    total_frames = 0

    class spec:  # noqa: N801 - mirrors RecorderSpec's attribute
        fps = 30

    @property
    def state(self) -> str:
        return "recording" if self.open else "idle"

    @property
    def episode_frames(self) -> int:
        return len(self.frames) if self.open else 0

    def __init__(self) -> None:
        self.open = False
        self.frames: list[dict[str, Any]] = []
        self.saved: list[list[dict[str, Any]]] = []
        self.extras: list[dict[str, Any]] = []
        self.index = 0

    def start_episode(self, task: str, prefix_frames: Any = None) -> int:
        assert not self.open, "start_episode while an episode is open"
        self.open = True
        self.frames = list(prefix_frames or [])
        return self.index

    def add_frame(self, frame: dict[str, Any]) -> None:
        assert self.open, "add_frame without an open episode"
        self.frames.append(frame)

    def save_episode(self, extra: dict[str, Any] | None = None) -> Future[EpisodeInfo]:
        assert self.open and self.frames, "save_episode without frames"
        future: Future[EpisodeInfo] = Future()
        info = EpisodeInfo(self.index, len(self.frames), len(self.frames) / 30, "", 0.0, False, dict(extra or {}))
        self.saved.append(self.frames)
        self.extras.append(dict(extra or {}))
        self.index += 1
        self.open = False
        self.frames = []
        future.set_result(info)
        return future

    def discard_episode(self, reason: str | None = None) -> bool:
        was_open, self.open, self.frames = self.open, False, []
        return was_open

    def close(self, timeout: float | None = None) -> bool:
        return True

    def episodes(self) -> list[EpisodeInfo]:
        return []

    def status(self) -> dict[str, Any]:
        return {"state": "recording" if self.open else "idle", "episode_index": self.index if self.open else None,
                "frames": len(self.frames), "elapsed_s": 0.0, "dropped_frames": 0, "live_backlog_s": 0.0,
                "max_backlog_s": 10.0, "encoder_fps": None, "pending_saves": 0, "total_episodes": self.index,
                "total_frames": 0, "last_error": None}


def make_context(*flags: str) -> tuple[TickContext, FakeRobot, FakeLeader, FakeEngine]:
    config = load_config(["--robot.camera_width=160", "--robot.camera_height=120", *flags])
    robot = FakeRobot()
    leader = FakeLeader()
    engine = FakeEngine()
    layout = FeatureLayout.from_robot(robot.observation_features, robot.action_features)
    ctx = TickContext(config=config, robot=robot, layout=layout, engine=engine, events=EventBus(), teleop=leader)
    return ctx, robot, leader, engine
