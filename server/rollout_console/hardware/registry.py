"""Creates the configured robot or teleoperator; optional backends are imported only when selected."""

from __future__ import annotations

from ..config import RobotConfig
from .protocols import Robot

__all__ = ["make_robot"]


def make_robot(config: RobotConfig) -> Robot:
    if config.type == "sim":
        from .sim.robot import SimRobot

        return SimRobot(config)
    raise ValueError(f"unknown robot type {config.type!r}")
