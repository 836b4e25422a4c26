"""A robot, a camera and a leader arm written against LeRobot 0.6.1's own base classes and registries.

LeRobot's wheel ships no mock devices, so these stand in for hardware: they register through
LeRobot's ``RobotConfig`` / ``CameraConfig`` / ``TeleoperatorConfig`` choice registries and are created
by LeRobot's own factories (``make_device_from_device_class`` finds ``FakeArm`` for ``FakeArmConfig``
in this module), so the console reaches them exactly as it reaches an SO-101:
``--robot.type=fake_arm --robot.port=... --robot.cameras='{front: {type: fake_camera, ...}}'``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from lerobot.cameras import Camera, CameraConfig
from lerobot.cameras.utils import make_cameras_from_configs
from lerobot.motors import MotorCalibration
from lerobot.robots import Robot, RobotConfig
from lerobot.teleoperators import Teleoperator, TeleoperatorConfig
from lerobot.utils.errors import DeviceNotConnectedError

MOTORS = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")


@CameraConfig.register_subclass("fake_camera")
@dataclass
class FakeCameraConfig(CameraConfig):
    pattern: str = "bars"


class FakeCamera(Camera):
    """Renders a moving bar whose grey level counts frames; a thread of its own, like OpenCVCamera."""

    def __init__(self, config: FakeCameraConfig) -> None:
        super().__init__(config)
        self.config = config
        self.latest_frame: np.ndarray | None = None
        self.latest_timestamp: float | None = None
        self.frames = 0
        self._new = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_connected(self) -> bool:
        return self._thread is not None

    @staticmethod
    def find_cameras() -> list[dict[str, Any]]:
        return []

    def connect(self, warmup: bool = True) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="fake-camera")
        self._thread.start()

    def _render(self, n: int) -> np.ndarray:
        image = np.full((self.height, self.width, 3), 30 + (n * 5) % 180, dtype=np.uint8)
        x = (n * 2) % self.width
        image[:, x:x + 3] = 255
        return image

    def _loop(self) -> None:
        while not self._stop.wait(1.0 / self.fps):
            self.frames += 1
            image = self._render(self.frames)
            with self._lock:
                self.latest_frame, self.latest_timestamp = image, time.perf_counter()
            self._new.set()

    def read(self) -> np.ndarray:
        self._new.clear()
        return self.async_read(timeout_ms=2000)

    def async_read(self, timeout_ms: float = 200) -> np.ndarray:
        if self._thread is None:
            raise DeviceNotConnectedError("FakeCamera is not connected")
        if not self._new.wait(timeout_ms / 1000.0):
            raise TimeoutError(f"FakeCamera: no frame within {timeout_ms} ms")
        with self._lock:
            self._new.clear()
            assert self.latest_frame is not None
            return self.latest_frame

    def read_latest(self, max_age_ms: int = 500) -> np.ndarray:
        with self._lock:
            if self.latest_frame is None or self.latest_timestamp is None:
                raise RuntimeError("FakeCamera has no frame yet")
            if (time.perf_counter() - self.latest_timestamp) * 1000 > max_age_ms:
                raise TimeoutError("FakeCamera: latest frame is too old")
            return self.latest_frame

    def disconnect(self) -> None:
        if self._thread is None:
            raise DeviceNotConnectedError("FakeCamera is not connected")
        self._stop.set()
        self._thread.join(timeout=2)
        self._thread = None


@RobotConfig.register_subclass("fake_arm")
@dataclass
class FakeArmConfig(RobotConfig):
    port: str
    cameras: dict[str, CameraConfig] = field(default_factory=dict)
    max_relative_target: float | None = None
    fail_reads_after: int | None = None  # raise a bus error on every read after this many
    speed: float = 0.5  # fraction of the distance to the goal covered per read


class FakeArm(Robot):
    """Six joints approaching their goal positions; calibrated when its calibration file exists."""

    config_class = FakeArmConfig
    name = "fake_arm"

    def __init__(self, config: FakeArmConfig) -> None:
        super().__init__(config)
        self.config = config
        self.cameras = make_cameras_from_configs(config.cameras)
        self.position = np.array([0.0, -10.0, 10.0, 30.0, 0.0, 20.0])
        self.goal = self.position.copy()
        self.reads = 0
        self._bus = False

    @property
    def observation_features(self) -> dict:
        motors = {f"{m}.pos": float for m in MOTORS}
        cams = {name: (cfg.height, cfg.width, 3) for name, cfg in self.config.cameras.items()}
        return {**motors, **cams}

    @property
    def action_features(self) -> dict:
        return {f"{m}.pos": float for m in MOTORS}

    @property
    def is_connected(self) -> bool:
        return self._bus and all(cam.is_connected for cam in self.cameras.values())

    @property
    def is_calibrated(self) -> bool:
        return bool(self.calibration)

    def connect(self, calibrate: bool = True) -> None:
        if self.config.port.startswith("/dev/missing"):
            raise ConnectionError(f"Could not connect on port '{self.config.port}'. Try running `lerobot-find-port`")
        self._bus = True
        if not self.is_calibrated and calibrate:
            self.calibrate()
        for cam in self.cameras.values():
            cam.connect()

    def calibrate(self) -> None:
        input(f"Move {self} to the middle of its range of motion and press ENTER....")
        self.calibration = {m: MotorCalibration(id=i + 1, drive_mode=0, homing_offset=0, range_min=0,
                                                range_max=4095) for i, m in enumerate(MOTORS)}
        self._save_calibration()

    def configure(self) -> None:
        pass

    def get_observation(self) -> dict:
        if not self._bus:
            raise DeviceNotConnectedError(f"{self} is not connected.")
        self.reads += 1
        if self.config.fail_reads_after is not None and self.reads > self.config.fail_reads_after:
            raise ConnectionError("Failed to sync read 'Present_Position' on ids=[1, 2, 3, 4, 5, 6] after 1 tries")
        self.position = self.position + self.config.speed * (self.goal - self.position)
        obs: dict[str, Any] = {f"{m}.pos": float(v) for m, v in zip(MOTORS, self.position, strict=True)}
        for name, cam in self.cameras.items():
            obs[name] = cam.read_latest()
        return obs

    def send_action(self, action: dict) -> dict:
        if not self._bus:
            raise DeviceNotConnectedError(f"{self} is not connected.")
        goal = np.array([action[f"{m}.pos"] for m in MOTORS], dtype=float)
        if self.config.max_relative_target is not None:
            step = self.config.max_relative_target
            goal = self.position + np.clip(goal - self.position, -step, step)
        self.goal = goal
        return {f"{m}.pos": float(v) for m, v in zip(MOTORS, goal, strict=True)}

    def disconnect(self) -> None:
        if not self._bus:
            raise DeviceNotConnectedError(f"{self} is not connected.")
        self._bus = False
        for cam in self.cameras.values():
            cam.disconnect()


@TeleoperatorConfig.register_subclass("fake_leader")
@dataclass
class FakeLeaderConfig(TeleoperatorConfig):
    port: str
    amplitude: float = 20.0


class FakeLeader(Teleoperator):
    """A leader arm swaying around a pose (a human moving it)."""

    config_class = FakeLeaderConfig
    name = "fake_leader"

    def __init__(self, config: FakeLeaderConfig) -> None:
        super().__init__(config)
        self.config = config
        self._connected = False
        self._t0 = time.monotonic()

    @property
    def action_features(self) -> dict:
        return {f"{m}.pos": float for m in MOTORS}

    @property
    def feedback_features(self) -> dict:
        return {}

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self, calibrate: bool = True) -> None:
        self._connected = True
        if not self.is_calibrated and calibrate:
            self.calibrate()

    @property
    def is_calibrated(self) -> bool:
        return bool(self.calibration)

    def calibrate(self) -> None:
        input("Press ENTER to use provided calibration file associated with the id")

    def configure(self) -> None:
        pass

    def get_action(self) -> dict:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self} is not connected.")
        sway = self.config.amplitude * np.sin(time.monotonic() - self._t0)
        return {f"{m}.pos": float(10.0 * i + sway) for i, m in enumerate(MOTORS)}

    def send_feedback(self, feedback: dict) -> None:
        pass

    def disconnect(self) -> None:
        self._connected = False


def write_calibration(calibration_dir, device_id: str) -> None:
    """Save a calibration file where LeRobot looks for it (``<dir>/<id>.json``), with LeRobot's own writer."""
    import draccus

    path = calibration_dir / f"{device_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    calibration = {m: MotorCalibration(id=i + 1, drive_mode=0, homing_offset=0, range_min=0, range_max=4095)
                   for i, m in enumerate(MOTORS)}
    with open(path, "w") as handle, draccus.config_type("json"):
        draccus.dump(calibration, handle, indent=4)
