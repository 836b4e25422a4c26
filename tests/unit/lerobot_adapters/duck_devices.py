"""LeRobot-shaped devices without LeRobot: the attributes and methods the adapters rely on, nothing more.

``DuckCamera`` behaves like LeRobot 0.6.1's OpenCVCamera (a thread of its own after ``connect``,
``async_read`` waits for a new frame, ``latest_timestamp`` on ``perf_counter``); ``DuckArm`` like an SO
follower (``connect(calibrate)``, ``is_calibrated``, ``calibrate()`` that prompts with ``input()``,
cameras in ``self.cameras`` read with ``read_latest`` inside ``get_observation``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

JOINTS = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")


class DeviceNotConnectedError(ConnectionError):
    """Same name as LeRobot's (the adapters match it by name)."""


class DuckCamera:
    def __init__(self, width: int = 32, height: int = 24, fps: int = 30, freeze_after: int | None = None,
                 stamp_lag_s: float = 0.0) -> None:
        self.width, self.height, self.fps = width, height, fps
        self.freeze_after = freeze_after  # stop delivering after this many frames (a hung camera)
        self.stamp_lag_s = stamp_lag_s  # frames reach us this long after their capture stamp (a slow link)
        self.latest_frame: np.ndarray | None = None
        self.latest_timestamp: float | None = None
        self.count = 0
        self.read_latest_calls = 0
        self._event = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def is_connected(self) -> bool:
        return self._thread is not None

    def connect(self, warmup: bool = True) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0 / self.fps):
            if self.freeze_after is not None and self.count >= self.freeze_after:
                continue
            self.deliver()

    def deliver(self) -> None:
        """Capture one frame now (the camera's thread does this at ``fps``; a ManualCamera when told)."""
        self.count += 1
        image = np.full((self.height, self.width, 3), self.count % 256, dtype=np.uint8)
        with self._lock:
            self.latest_frame, self.latest_timestamp = image, time.perf_counter() - self.stamp_lag_s
        self._event.set()

    def async_read(self, timeout_ms: float = 200) -> np.ndarray:
        if self._thread is None:
            raise DeviceNotConnectedError("DuckCamera is not connected")
        if not self._event.wait(timeout_ms / 1000.0):
            raise TimeoutError(f"no frame within {timeout_ms} ms")
        with self._lock:
            self._event.clear()
            assert self.latest_frame is not None
            return self.latest_frame

    def read_latest(self, max_age_ms: int = 500) -> np.ndarray:
        self.read_latest_calls += 1
        with self._lock:
            if self.latest_frame is None or self.latest_timestamp is None:
                raise RuntimeError("no frame yet")
            if (time.perf_counter() - self.latest_timestamp) * 1000 > max_age_ms:
                raise TimeoutError("latest frame is too old")
            return self.latest_frame

    def disconnect(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._thread = None


class ManualCamera(DuckCamera):
    """A DuckCamera without a capture thread: a frame exists only when the test calls ``deliver``."""

    def _run(self) -> None:
        return


class DuckArm:
    """Six joints that follow their goals at once; ``calibration_fpath`` decides ``is_calibrated``."""

    name = "duck_follower"

    def __init__(self, calibration_dir: Path, robot_id: str = "duck1", cameras: dict | None = None,
                 fail_connect: Exception | None = None) -> None:
        self.id = robot_id
        self.calibration_fpath = calibration_dir / f"{robot_id}.json"
        self.calibration = {"loaded": True} if self.calibration_fpath.is_file() else {}
        self.cameras = dict(cameras or {})
        self._camera_features = {name: (cam.height, cam.width, 3) for name, cam in self.cameras.items()}
        self.fail_connect = fail_connect
        self.fail_reads: Exception | None = None
        self.connect_calls: list[bool] = []
        self.goal = np.zeros(len(JOINTS))
        self.max_step: float | None = None  # like max_relative_target: clip each action
        self._bus = False

    @property
    def observation_features(self) -> dict:
        return {**{f"{j}.pos": float for j in JOINTS}, **self._camera_features}

    @property
    def action_features(self) -> dict:
        return {f"{j}.pos": float for j in JOINTS}

    @property
    def is_connected(self) -> bool:
        return self._bus and all(cam.is_connected for cam in self.cameras.values())

    @property
    def is_calibrated(self) -> bool:
        return bool(self.calibration)

    def connect(self, calibrate: bool = True) -> None:
        self.connect_calls.append(calibrate)
        if self.fail_connect is not None:
            raise self.fail_connect
        self._bus = True
        if not self.is_calibrated and calibrate:
            self.calibrate()
        for cam in self.cameras.values():
            cam.connect()

    def calibrate(self) -> None:
        input(f"Move {self.id} to the middle of its range of motion and press ENTER....")

    def get_observation(self) -> dict:
        if not self._bus:
            raise DeviceNotConnectedError(f"{self.id} is not connected")
        if self.fail_reads is not None:
            raise self.fail_reads
        obs: dict = {f"{j}.pos": np.float32(v) for j, v in zip(JOINTS, self.goal, strict=True)}
        for name, cam in self.cameras.items():
            obs[name] = cam.read_latest()
        return obs

    def send_action(self, action: dict) -> dict:
        if not self._bus:
            raise DeviceNotConnectedError(f"{self.id} is not connected")
        goal = np.array([action[f"{j}.pos"] for j in JOINTS], dtype=float)
        if self.max_step is not None:
            goal = self.goal + np.clip(goal - self.goal, -self.max_step, self.max_step)
        self.goal = goal
        return {f"{j}.pos": np.float64(v) for j, v in zip(JOINTS, goal, strict=True)}

    def disconnect(self) -> None:
        if not self._bus:
            raise DeviceNotConnectedError(f"{self.id} is not connected")
        self._bus = False
        for cam in self.cameras.values():
            cam.disconnect()


class DuckLeader:
    name = "duck_leader"

    def __init__(self, calibrated: bool = True) -> None:
        self.id = "lead1"
        self.calibration_fpath = Path("/nonexistent/lead1.json")
        self._calibrated = calibrated
        self._connected = False
        self.position = np.arange(len(JOINTS), dtype=float)

    @property
    def action_features(self) -> dict:
        return {f"{j}.pos": float for j in JOINTS}

    @property
    def is_connected(self) -> bool:
        return self._connected

    @property
    def is_calibrated(self) -> bool:
        return self._calibrated

    def connect(self, calibrate: bool = True) -> None:
        self._connected = True
        if calibrate and not self._calibrated:
            input("Press ENTER to use provided calibration file")

    def get_action(self) -> dict:
        if not self._connected:
            raise DeviceNotConnectedError("leader not connected")
        return {f"{j}.pos": np.float32(v) for j, v in zip(JOINTS, self.position, strict=True)}

    def disconnect(self) -> None:
        self._connected = False
