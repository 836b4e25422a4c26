"""The peer benchmark's robot: a LeRobot ``Robot`` that both ``lerobot-rollout`` and the console drive.

A small simulated arm with SO-101 joint names (``shoulder_pan.pos`` ... ``gripper.pos``) on the console's
sim world (first-order joints, a cube and a target), and ``peer_camera`` cameras that render that world
(the console's sim renderer, 480x640 by default) in threads of their own, like USB cameras.

The robot is also the benchmark's stopwatch: ``send_action`` appends the monotonic time of every command
to a preallocated array (one store, nothing else on the hot path) and ``disconnect`` writes the trace as
JSON to ``--robot.trace_path`` (so does exit, should the program fail before it disconnects the robot).
The same plugin module times ``LeRobotDataset.save_episode`` calls (the incumbent saves episodes on its
control thread) so the trace can show the loop gap after a save.

Cameras behave like LeRobot's OpenCV camera: ``read_latest`` raises when the newest frame is older than
``max_age_ms`` (500 ms), which is what ``lerobot-rollout`` meets on a real arm when the machine starves.
"""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from lerobot.cameras import Camera
from lerobot.cameras.utils import make_cameras_from_configs
from lerobot.robots import Robot
from lerobot.utils.errors import DeviceNotConnectedError
from rollout_console.hardware.sim.kinematics import JOINT_NAMES
from rollout_console.hardware.sim.render import SceneRenderer
from rollout_console.hardware.sim.world import SimWorld

from .config_peer_arm import PeerArmConfig, PeerCameraConfig

__all__ = ["TRACE_VERSION", "PeerArm", "PeerArmConfig", "PeerCamera", "PeerCameraConfig"]

TRACE_VERSION = 1
_SAVES: list[tuple[float, float]] = []  # (start, end) of every LeRobotDataset.save_episode in this process


class _Times:
    """Append-only float64 array: one index store per append; grows by doubling (rare)."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._data = np.empty(capacity, dtype=np.float64)
        self.count = 0

    def append(self, value: float) -> None:
        if self.count == len(self._data):
            self._data = np.concatenate([self._data, np.empty_like(self._data)])
        self._data[self.count] = value
        self.count += 1

    def values(self) -> list[float]:
        return self._data[: self.count].tolist()


class PeerCamera(Camera):
    """Renders one view of the arm's world at ``fps`` in its own thread; ``async_read`` waits for a new frame."""

    def __init__(self, config: PeerCameraConfig) -> None:
        super().__init__(config)
        self.config = config
        self.width = config.width or 640
        self.height = config.height or 480
        self.fps = config.fps or 30
        self.world: SimWorld | None = None  # the arm attaches its world; standalone: a world of its own
        self.latest_frame: np.ndarray | None = None
        self.latest_timestamp: float | None = None
        self._renderer = SceneRenderer(config.view, self.width, self.height)
        self._new = threading.Condition()
        self._frames = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_connected(self) -> bool:
        return self._thread is not None

    @staticmethod
    def find_cameras() -> list[dict[str, Any]]:
        return []

    def connect(self, warmup: bool = True) -> None:
        if self.world is None:
            self.world = SimWorld(seed=0, start_time=time.monotonic())
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"peer-camera-{self.config.view}")
        self._thread.start()
        if warmup:
            self.async_read(timeout_ms=5000)

    def _run(self) -> None:
        period = 1.0 / self.fps
        deadline = time.monotonic()
        while not self._stop.is_set():
            assert self.world is not None
            image = self._renderer.render(self.world.snapshot(time.monotonic()))
            with self._new:
                self.latest_frame, self.latest_timestamp = image, time.perf_counter()
                self._frames += 1
                self._new.notify_all()
            deadline += period
            delay = deadline - time.monotonic()
            if delay < -period:  # fell behind: skip, like a camera dropping frames
                deadline = time.monotonic()
            elif delay > 0:
                self._stop.wait(delay)

    def read(self) -> np.ndarray:
        return self.async_read(timeout_ms=5000)

    def async_read(self, timeout_ms: float = 200) -> np.ndarray:
        if self._thread is None:
            raise DeviceNotConnectedError(f"PeerCamera {self.config.view} is not connected")
        with self._new:
            seen = self._frames
            if not self._new.wait_for(lambda: self._frames > seen, timeout_ms / 1000.0):
                raise TimeoutError(f"PeerCamera {self.config.view}: no frame within {timeout_ms} ms")
            assert self.latest_frame is not None
            return self.latest_frame

    def read_latest(self, max_age_ms: int = 500) -> np.ndarray:
        """The newest frame; like LeRobot's OpenCVCamera, a frame older than ``max_age_ms`` raises."""
        with self._new:
            frame, captured = self.latest_frame, self.latest_timestamp
        if frame is None or captured is None:
            raise RuntimeError(f"PeerCamera {self.config.view} has no frame yet")
        age_ms = (time.perf_counter() - captured) * 1000.0
        if age_ms > max_age_ms:
            raise TimeoutError(f"PeerCamera {self.config.view}: latest frame is {age_ms:.0f} ms old "
                               f"(max {max_age_ms} ms)")
        return frame

    def disconnect(self) -> None:
        if self._thread is None:
            raise DeviceNotConnectedError(f"PeerCamera {self.config.view} is not connected")
        self._stop.set()
        self._thread.join(timeout=5)
        self._thread = None


class PeerArm(Robot):
    """Six SO-101 joints on the sim world; always calibrated; every ``send_action`` is timed."""

    config_class = PeerArmConfig
    name = "peer_arm"

    def __init__(self, config: PeerArmConfig) -> None:
        super().__init__(config)
        self.config = config
        self.world = SimWorld(seed=config.seed, start_time=time.monotonic(), reset_after_success_s=2.0)
        self.cameras = make_cameras_from_configs(config.cameras)
        for camera in self.cameras.values():
            if isinstance(camera, PeerCamera):
                camera.world = self.world
        self.sends = _Times()
        self._written = -1  # commands in the trace file (-1: none written)
        self._connected = False
        self._wall_minus_mono = time.time() - time.monotonic()

    @property
    def observation_features(self) -> dict:
        motors = {f"{m}.pos": float for m in JOINT_NAMES}
        cams = {name: (cfg.height, cfg.width, 3) for name, cfg in self.config.cameras.items()}
        return {**motors, **cams}

    @property
    def action_features(self) -> dict:
        return {f"{m}.pos": float for m in JOINT_NAMES}

    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def is_calibrated(self) -> bool:
        return True

    def calibrate(self) -> None:
        pass

    def configure(self) -> None:
        pass

    def connect(self, calibrate: bool = True) -> None:
        for camera in self.cameras.values():
            camera.connect()
        self._connected = True
        atexit.register(self.write_trace)  # also when the program fails before it disconnects the robot

    def get_observation(self) -> dict[str, Any]:
        if not self._connected:
            raise DeviceNotConnectedError("peer_arm is not connected")
        q = self.world.read_joints(time.monotonic())
        observation: dict[str, Any] = {f"{m}.pos": float(v) for m, v in zip(JOINT_NAMES, q, strict=True)}
        for name, camera in self.cameras.items():
            observation[name] = camera.read_latest()
        return observation

    def send_action(self, action: dict[str, Any]) -> dict[str, Any]:
        now = time.monotonic()
        self.sends.append(now)
        if not self._connected:
            raise DeviceNotConnectedError("peer_arm is not connected")
        goal = np.array([float(action[f"{m}.pos"]) for m in JOINT_NAMES])
        sent = self.world.set_goal(goal, now)
        return {f"{m}.pos": float(v) for m, v in zip(JOINT_NAMES, sent, strict=True)}

    def disconnect(self) -> None:
        for camera in self.cameras.values():
            if camera.is_connected:
                camera.disconnect()
        self._connected = False
        self.write_trace()

    def write_trace(self) -> None:
        """Write the trace to ``--robot.trace_path`` (again, if more commands came since the last write)."""
        if self.config.trace_path and self.sends.count != self._written:
            write_trace(Path(self.config.trace_path), self.trace())
            self._written = self.sends.count

    def trace(self) -> dict[str, Any]:
        """Every command's monotonic time, every dataset save, and how to turn monotonic into wall time."""
        return {"version": TRACE_VERSION, "program": Path(sys.argv[0]).name, "pid": os.getpid(),
                "wall_minus_mono": self._wall_minus_mono, "sends": self.sends.values(),
                "saves": [list(s) for s in _SAVES]}


def write_trace(path: Path, trace: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(trace))
    tmp.replace(path)


def _time_dataset_saves() -> None:
    """Wrap LeRobotDataset.save_episode (used by lerobot-rollout, not by the console) to time each save."""
    try:
        from lerobot.datasets.lerobot_dataset import LeRobotDataset
    except ImportError:  # a LeRobot without datasets: nothing to time
        return
    original = LeRobotDataset.save_episode
    if getattr(original, "_peer_timed", False):
        return

    def save_episode(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            return original(self, *args, **kwargs)
        finally:
            _SAVES.append((start, time.monotonic()))

    save_episode._peer_timed = True  # type: ignore[attr-defined]
    LeRobotDataset.save_episode = save_episode  # type: ignore[method-assign]


_time_dataset_saves()
