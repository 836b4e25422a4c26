"""Operator commands: explicit verbs (never toggles), applied by the control loop at the next tick."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from .phases import Phase

__all__ = ["COMMAND_NAMES", "Command", "CommandResult"]

COMMAND_NAMES: tuple[str, ...] = (
    "pause",
    "resume",
    "takeover",
    "handback",
    "mark",
    "save",
    "discard",
    "upload",
    "stop",
    "estop",
    "end_reset",
    "end_episode",
    "exclude",
)

_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class Command:
    """One operator request. ``source`` says which input sent it (rest, ws, pedal, keyboard, ...)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    source: str = "api"
    id: int = field(default_factory=lambda: next(_ids))
    created: float = field(default_factory=time.monotonic)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What happened to a command: accepted (and the phase after it) or rejected with a reason."""

    accepted: bool
    phase: Phase
    detail: str | None = None
    status: int = 200  # HTTP-like: 200 applied, 409 invalid now, 503 not applied in time

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "phase": self.phase.value, "detail": self.detail}
