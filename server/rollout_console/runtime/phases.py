"""Session phases and which of them move the robot."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MOVING", "TERMINAL", "Phase"]


class Phase(StrEnum):
    STARTING = "starting"
    AUTONOMOUS = "autonomous"
    PAUSED = "paused"
    CORRECTING = "correcting"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ESTOPPED = "estopped"
    ERROR = "error"


MOVING = frozenset({Phase.AUTONOMOUS, Phase.CORRECTING})
"""The robot moves under the policy or the human only in these phases."""

TERMINAL = frozenset({Phase.STOPPED})
