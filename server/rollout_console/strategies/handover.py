"""Bumpless transfer at takeover: bring the follower to the leader smoothly, in bounded time.

Without it the follower jumps to wherever the leader happens to be (LeRobot #3385, #3723). The blend
targets the leader's *current* position every tick, so an operator who already moves the leader is
followed, and it always ends exactly on the leader within ``handover_max_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.hardware import SimTeleopConfig
from ..config.lerobot import LeRobotTeleopConfig
from .steps import min_jerk

__all__ = ["Handover", "plan_handover"]

_MIN_DURATION_S = 0.2


@dataclass
class Handover:
    start: np.ndarray
    started_at: float
    duration_s: float
    distance: float

    def command(self, now: float, leader: np.ndarray) -> tuple[np.ndarray, float]:
        """The follower command for this tick and the progress (0..1; 1 = handed over)."""
        progress = min(1.0, max(0.0, (now - self.started_at) / self.duration_s))
        return self.start + (leader - self.start) * min_jerk(progress), progress


def plan_handover(follower: np.ndarray, leader: np.ndarray, now: float,
                  config: SimTeleopConfig | LeRobotTeleopConfig) -> Handover | None:
    """None when no handover is needed (already aligned, or disabled)."""
    distance = float(np.max(np.abs(leader - follower)))
    if config.handover == "none" or distance <= config.handover_tolerance:
        return None
    duration = min(config.handover_max_s, max(_MIN_DURATION_S, distance / config.handover_speed_deg_s))
    return Handover(follower.astype(np.float64).copy(), now, duration, distance)
