"""Creates the configured robot or teleoperator; optional backends are imported only when selected.

Both registries are keyed by device family: ``sim``, or ``lerobot`` for every LeRobot type.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import RobotConfig, SimRobotConfig, SimTeleopConfig, TeleopConfig
from ..config.lerobot import LeRobotRobotConfig, LeRobotTeleopConfig, device_family
from ..registry import Registry
from .protocols import Robot, Teleoperator

__all__ = ["ROBOTS", "TELEOPS", "make_robot", "make_teleop"]

ROBOTS: Registry[Callable[[RobotConfig], Robot]] = Registry("robot type", "--robot.type")
TELEOPS: Registry[Callable[[TeleopConfig], Teleoperator]] = Registry("teleoperator type", "--teleop.type")


@ROBOTS.register("sim")
def _sim_robot(config: RobotConfig) -> Robot:
    from .sim.robot import SimRobot

    assert isinstance(config, SimRobotConfig)  # the family picked this factory

    return SimRobot(config)


@ROBOTS.register("lerobot")
def _lerobot_robot(config: RobotConfig) -> Robot:
    from .lerobot.factory import make_lerobot_robot

    assert isinstance(config, LeRobotRobotConfig)

    return make_lerobot_robot(config)


@TELEOPS.register("sim")
def _sim_leader(config: TeleopConfig) -> Teleoperator:
    from .sim.leader import SimLeaderArm

    assert isinstance(config, SimTeleopConfig)

    return SimLeaderArm(config)


@TELEOPS.register("lerobot")
def _lerobot_teleop(config: TeleopConfig) -> Teleoperator:
    from .lerobot.factory import make_lerobot_teleop

    assert isinstance(config, LeRobotTeleopConfig)

    return make_lerobot_teleop(config)


def make_robot(config: RobotConfig) -> Robot:
    return ROBOTS.get(device_family(config))(config)


def make_teleop(config: TeleopConfig | None) -> Teleoperator | None:
    if config is None:
        return None
    return TELEOPS.get(device_family(config))(config)
