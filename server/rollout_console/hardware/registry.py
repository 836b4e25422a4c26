"""Creates the configured robot or teleoperator; optional backends are imported only when selected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import RobotConfig, TeleopConfig
from ..config.lerobot import device_family
from .protocols import Robot, Teleoperator

__all__ = ["make_robot", "make_teleop"]


def _sim_robot(config: Any) -> Robot:
    from .sim.robot import SimRobot

    return SimRobot(config)


def _sim_leader(config: Any) -> Teleoperator:
    from .sim.leader import SimLeaderArm

    return SimLeaderArm(config)


def _lerobot_robot(config: Any) -> Robot:
    from .lerobot.factory import make_lerobot_robot

    return make_lerobot_robot(config)


def _lerobot_teleop(config: Any) -> Teleoperator:
    from .lerobot.factory import make_lerobot_teleop

    return make_lerobot_teleop(config)


# keyed by device family: "sim", or "lerobot" for every LeRobot type (imported only when selected)
ROBOTS: dict[str, Callable[[Any], Robot]] = {"sim": _sim_robot, "lerobot": _lerobot_robot}
TELEOPS: dict[str, Callable[[Any], Teleoperator]] = {"sim": _sim_leader, "lerobot": _lerobot_teleop}


def make_robot(config: RobotConfig) -> Robot:
    factory = ROBOTS.get(device_family(config))
    if factory is None:
        raise ValueError(f"unknown robot type {config.type!r}; known: {', '.join(ROBOTS)}")
    return factory(config)


def make_teleop(config: TeleopConfig | None) -> Teleoperator | None:
    if config is None:
        return None
    factory = TELEOPS.get(device_family(config))
    if factory is None:
        raise ValueError(f"unknown teleoperator type {config.type!r}; known: {', '.join(TELEOPS)}")
    return factory(config)
