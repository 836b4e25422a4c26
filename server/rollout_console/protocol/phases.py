"""Session phases and which of them move the robot."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MOVING", "Phase"]


class Phase(StrEnum):
    IDLE = "idle"  # the server runs but no session does (only session management and estop apply)
    STARTING = "starting"
    AUTONOMOUS = "autonomous"
    PAUSED = "paused"
    CORRECTING = "correcting"
    STOPPING = "stopping"
    STOPPED = "stopped"
    ESTOPPED = "estopped"
    ERROR = "error"
    RESETTING = "resetting"  # episodic: the arm returns home and the scene is put back before an episode
    AWAITING_OUTCOME = "awaiting_outcome"  # episodic: the episode is over, the operator gives its outcome


MOVING = frozenset({Phase.AUTONOMOUS, Phase.CORRECTING})
"""The robot moves under the policy or the human only in these phases."""
