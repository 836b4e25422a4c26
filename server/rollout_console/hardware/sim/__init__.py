"""The built-in simulated SO-101 arm: dynamics, task scene, rendered cameras, leader arm."""

from .kinematics import HOME, JOINT_LIMITS, JOINT_NAMES, forward_kinematics, inverse_kinematics
from .robot import ENV_FEATURES, SimRobot
from .world import SimState, SimWorld

__all__ = [
    "ENV_FEATURES",
    "HOME",
    "JOINT_LIMITS",
    "JOINT_NAMES",
    "SimRobot",
    "SimState",
    "SimWorld",
    "forward_kinematics",
    "inverse_kinematics",
]
