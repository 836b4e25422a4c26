"""Configs of the peer benchmark's LeRobot plugin: a simulated SO-101-like arm and its rendered cameras.

They register in LeRobot's own choice registries (``--robot.type=peer_arm``, camera ``type: peer_camera``);
LeRobot's ``make_device_from_device_class`` then finds ``PeerArm`` / ``PeerCamera`` in ``peer_arm.py``
(this module's name with ``config_`` removed). Only importable where LeRobot is installed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lerobot.cameras import CameraConfig
from lerobot.robots import RobotConfig


@CameraConfig.register_subclass("peer_camera")
@dataclass
class PeerCameraConfig(CameraConfig):
    view: str = "front"  # front, top or side: which view of the arm's world it renders


@RobotConfig.register_subclass("peer_arm")
@dataclass
class PeerArmConfig(RobotConfig):
    cameras: dict[str, CameraConfig] = field(default_factory=dict)
    seed: int = 0
    trace_path: str | None = None  # where the command trace goes at disconnect (JSON); None: kept in memory
