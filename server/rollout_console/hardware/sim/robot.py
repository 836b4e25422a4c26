"""SimRobot: the built-in simulated SO-101 arm behind the same Robot protocol as real hardware."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ...config import SimRobotConfig
from ...errors import DeviceNotConnectedError, HardwareError
from ..camera_reader import CameraReader
from ..protocols import CameraSource, FeatureSpec
from .camera import SimCamera
from .kinematics import JOINT_NAMES
from .world import SimWorld

__all__ = ["ENV_FEATURES", "SimRobot"]

ENV_FEATURES = ("env.object_x", "env.object_y", "env.object_z", "env.target_x", "env.target_y", "env.grasped")
_FIRST_FRAME_TIMEOUT_S = 5.0


class SimRobot:
    """Joint positions in degrees (gripper 0..100), the task state as ``env.*`` floats, RGB cameras."""

    name = "sim_so101"

    def __init__(self, config: SimRobotConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.id = config.id
        self._clock = clock
        self.world = SimWorld(
            seed=config.seed,
            start_time=clock(),
            max_speed_deg_s=config.max_joint_speed_deg_s,
            time_constant_s=config.time_constant_s,
            noise_deg=config.observation_noise_deg,
            reset_after_success_s=config.reset_after_success_s,
        )
        self._cameras: dict[str, CameraReader] = {
            view: CameraReader(SimCamera(view, self.world, config.camera_width, config.camera_height,
                                         config.camera_fps, clock))
            for view in config.cameras
        }
        self._connected = False

    def __str__(self) -> str:
        return f"sim robot {self.id}"

    @property
    def observation_features(self) -> dict[str, FeatureSpec]:
        features: dict[str, FeatureSpec] = {f"{joint}.pos": float for joint in JOINT_NAMES}
        features.update({key: float for key in ENV_FEATURES})
        for name, cam in self._cameras.items():
            features[name] = (cam.height, cam.width, 3)
        return features

    @property
    def action_features(self) -> dict[str, FeatureSpec]:
        return {f"{joint}.pos": float for joint in JOINT_NAMES}

    @property
    def cameras(self) -> Mapping[str, CameraSource]:
        return self._cameras

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        for reader in self._cameras.values():
            reader.start()
        deadline = time.monotonic() + _FIRST_FRAME_TIMEOUT_S
        for reader in self._cameras.values():
            if reader.wait_newer(0, max(0.0, deadline - time.monotonic())) is None:
                raise HardwareError(f"{self}: camera {reader.name} delivered no frame")
        self._connected = True

    def disconnect(self) -> None:
        self._connected = False
        for reader in self._cameras.values():
            reader.stop()

    def get_observation(self) -> dict[str, Any]:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self}: not connected")
        now = self._clock()
        q = self.world.read_joints(now)
        state = self.world.snapshot()
        obs: dict[str, Any] = {f"{joint}.pos": float(v) for joint, v in zip(JOINT_NAMES, q, strict=True)}
        obs.update(
            {
                "env.object_x": float(state.object_pos[0]),
                "env.object_y": float(state.object_pos[1]),
                "env.object_z": float(state.object_pos[2]),
                "env.target_x": float(state.target_pos[0]),
                "env.target_y": float(state.target_pos[1]),
                "env.grasped": float(state.grasped),
            }
        )
        for name, reader in self._cameras.items():
            frame = reader.latest()
            obs[name] = frame.image if frame is not None else np.zeros((reader.height, reader.width, 3), np.uint8)
        return obs

    def send_action(self, action: dict[str, float]) -> dict[str, float]:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self}: not connected")
        unknown = set(action) - set(self.action_features)
        if unknown:
            raise HardwareError(f"{self}: unknown action keys {sorted(unknown)}")
        current = self.world.snapshot().goal
        goal = np.array([action.get(f"{j}.pos", current[i]) for i, j in enumerate(JOINT_NAMES)], dtype=np.float64)
        sent = self.world.set_goal(goal, self._clock())
        return {f"{joint}.pos": float(v) for joint, v in zip(JOINT_NAMES, sent, strict=True)}

    def task_status(self) -> dict[str, object]:
        return self.world.task_status()

    def reset_scene(self, seed: int | None = None) -> None:
        """Put the scene back for a new episode (SceneResetter extension; seeded: the same layout again)."""
        self.world.reset_scene(seed)
