"""TickContext: everything a strategy's tick may touch, owned by the Session, used on the loop thread."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..config import RolloutConsoleConfig
from ..features import FeatureLayout
from ..hardware.protocols import Teleoperator
from ..hardware.thread_safe import ThreadSafeRobot
from ..inference.base import InferenceEngine
from ..inference.interpolator import ActionInterpolator
from ..protocol.events import EventBus
from ..protocol.phases import Phase

__all__ = ["HandoverProgress", "LeaderDriver", "TickContext"]


class LeaderDriver(Protocol):
    """Something that moves the leader arm itself each correcting tick (the scripted expert)."""

    def reset(self) -> None: ...

    def drive(self, observation: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class HandoverProgress:
    """How far the follower has come towards the leader after a takeover (``status.teleop.handover``)."""

    active: bool
    progress: float
    duration_s: float

    def as_dict(self) -> dict[str, bool | float]:
        return {"active": self.active, "progress": self.progress, "duration_s": self.duration_s}


@dataclass
class TickContext:
    """Mutable per-session state shared by the shared steps; only the control thread writes it."""

    config: RolloutConsoleConfig
    robot: ThreadSafeRobot
    layout: FeatureLayout
    engine: InferenceEngine
    events: EventBus
    interpolator: ActionInterpolator = field(default_factory=ActionInterpolator)
    teleop: Teleoperator | None = None  # the leader arm
    teleop_driver: LeaderDriver | None = None  # moves the leader itself (--teleop.driver=expert)
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
    policy_tick: bool = True  # this control tick is a policy (and recording) tick: every N-th when interpolating
    policy_action: np.ndarray | None = None  # the policy's action of the latest policy tick (what a row records)
    handover: HandoverProgress | None = None  # while the follower is brought to the leader after a takeover
    announced_pending_saves: int = 0  # saves the stopping notice last counted (announced once per count)

    def set_phase(self, phase: Phase, cause: str, source: str = "session", **data: Any) -> None:
        """Change phase and announce it; a no-op when already there."""
        if phase == self.phase:
            return
        previous = self.phase
        self.phase = phase
        self.events.publish("phase_changed", previous=previous.value, phase=phase.value, cause=cause,
                            source=source, **data)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started_at if self.started_at else 0.0
