"""Creates the configured robot or teleoperator; optional backends are imported only when selected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import RobotConfig, TeleopConfig
from .protocols import Robot, Teleoperator

__all__ = ["make_robot", "make_teleop"]


def _sim_robot(config: Any) -> Robot:
    from .sim.robot import SimRobot

    return SimRobot(config)


def _sim_leader(config: Any) -> Teleoperator:
    from .sim.leader import SimLeaderArm

    return SimLeaderArm(config)


ROBOTS: dict[str, Callable[[Any], Robot]] = {"sim": _sim_robot}
TELEOPS: dict[str, Callable[[Any], Teleoperator]] = {"sim": _sim_leader}


def make_robot(config: RobotConfig) -> Robot:
    factory = ROBOTS.get(config.type)
    if factory is None:
        raise ValueError(f"unknown robot type {config.type!r}; known: {', '.join(ROBOTS)}")
    return factory(config)


def make_teleop(config: TeleopConfig | None) -> Teleoperator | None:
    if config is None:
        return None
    factory = TELEOPS.get(config.type)
    if factory is None:
        raise ValueError(f"unknown teleoperator type {config.type!r}; known: {', '.join(TELEOPS)}")
    return factory(config)
