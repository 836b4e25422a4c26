"""TickContext: everything a strategy's tick may touch, owned by the Session, used on the loop thread."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config import RolloutConsoleConfig
from ..features import FeatureLayout
from ..hardware.thread_safe import ThreadSafeRobot
from ..inference.base import InferenceEngine
from ..inference.interpolator import ActionInterpolator
from ..protocol.events import EventBus
from ..protocol.phases import Phase

__all__ = ["TickContext"]


@dataclass
class TickContext:
    """Mutable per-session state shared by the shared steps; only the control thread writes it."""

    config: RolloutConsoleConfig
    robot: ThreadSafeRobot
    layout: FeatureLayout
    engine: InferenceEngine
    events: EventBus
    interpolator: ActionInterpolator = field(default_factory=ActionInterpolator)
    teleop: Any = None  # Teleoperator (leader arm) or None
    teleop_driver: Any = None  # something with drive(observation) that moves the leader (the expert), or None
    phase: Phase = Phase.STARTING
    tick: int = 0
    now: float = 0.0  # perf_counter at the start of this tick
    started_at: float = 0.0
    observation: dict[str, Any] | None = None
    observation_at: float = 0.0
    last_sent: np.ndarray | None = None  # last action sent to the robot (action_names order)
    hold_target: np.ndarray | None = None
    initial_position: np.ndarray | None = None
    stopping_from: np.ndarray | None = None
    stopping_started: float = 0.0
    error: str | None = None
    notice: str | None = None  # why the session paused on its own (stale camera, inference error)
    notice_level: str | None = None  # "warning" or "error" while a notice stands
    paused_by: str | None = None  # the reason of the automatic pause in force (None: the operator paused)
    stop_in_place: bool = False  # stopping from estop or error: finish saves without moving the arm home
    extra: dict[str, Any] = field(default_factory=dict)

    def set_phase(self, phase: Phase, cause: str, source: str = "session", **data: Any) -> None:
        """Change phase and announce it; a no-op when already there."""
        if phase == self.phase:
            return
        previous = self.phase
        self.phase = phase
        self.events.publish("phase_changed", previous=previous.value, phase=phase.value, cause=cause,
                            source=source, **data)

    @property
    def policy_tick(self) -> bool:
        """Whether this control tick is a policy (and recording) tick: every N-th with interpolation."""
        return bool(self.extra.get("policy_tick", True))

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started_at if self.started_at else 0.0
