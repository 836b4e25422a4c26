"""Operator commands: explicit verbs (never toggles), applied by the control loop at the next tick.

``COMMANDS`` is the one table of commands: each ``CommandSpec`` has the name, the help text an operator
reads (REST summary, page tooltips, ``GET /api/v1/commands``) and the pydantic model of its arguments.
REST declares that model as the route's body, the control WebSocket validates ``args`` with
``validate_args`` (so a socket can never send what REST refuses), the pedal and the page only send names
from it. What happened to a command is a ``CommandOutcome``; only ``api/`` turns it into an HTTP status.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .phases import Phase

__all__ = [
    "COMMANDS",
    "COMMAND_NAMES",
    "ArgsError",
    "Command",
    "CommandOutcome",
    "CommandResult",
    "CommandSpec",
    "EmptyBody",
    "ExcludeBody",
    "SaveBody",
    "args_of",
    "validate_args",
]


class CommandOutcome(StrEnum):
    """What became of a command, in domain terms (``api/`` maps each to one HTTP status)."""

    APPLIED = "applied"  # done now
    ALREADY = "already"  # nothing to do: the session already is where the command leads
    PENDING = "pending"  # applied; its result (a save becoming durable) is not confirmed yet
    INVALID_NOW = "invalid_now"  # not valid in the current phase (the detail says why)
    UNKNOWN = "unknown"  # no such command
    BAD_ARGS = "bad_args"  # the arguments do not fit the command
    TIMED_OUT = "timed_out"  # the control loop did not apply it in time; withdrawn, it never applies later
    FAILED = "failed"  # applied but it did not work (a save that could not be written)


# ------------------------------------------------------------------ argument models (one per command)


class EmptyBody(BaseModel):
    """Commands without arguments accept an empty JSON object (or no body)."""

    model_config = ConfigDict(extra="forbid")


class SaveBody(BaseModel):
    """``save`` may label the episode with the outcome of the attempt (stored with the episode)."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["success", "failure", "unknown"] | None = Field(None, description="How the attempt ended")


class ExcludeBody(BaseModel):
    """``exclude`` leaves a finished episode out of the statistics; the results keep it with the reason."""

    model_config = ConfigDict(extra="forbid")
    episode: int = Field(ge=1, description="Episode number as shown (1 = the first)")
    reason: str = Field(min_length=1, max_length=500, description="Why it does not count (shown in the results)")


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command: its name, the help an operator reads, and the model its arguments must fit."""

    name: str
    help: str
    args: type[BaseModel] = EmptyBody

    def describe(self) -> dict[str, Any]:
        """The JSON the page and clients read (``GET /api/v1/commands``)."""
        return {"name": self.name, "help": self.help, "args_schema": self.args.model_json_schema()}


_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("pause", "Stop the policy and hold the current position."),
    CommandSpec("resume", "Hand control back to the policy (also clears an estop)."),
    CommandSpec("takeover", "Start a human correction with the leader arm (dagger)."),
    CommandSpec("handback", "End the correction and hold (dagger)."),
    CommandSpec("mark", "Keep the ring buffer as the start of a new episode and record live (highlight)."),
    CommandSpec("save", "Save the current episode.", SaveBody),
    CommandSpec("discard", "Drop the episode or correction in progress."),
    CommandSpec("upload", "Upload the saved episodes to the Hub now."),
    CommandSpec("stop", "End the session (returns home when configured)."),
    CommandSpec("estop", "Emergency stop: no more motion commands until an explicit resume."),
    CommandSpec("end_reset", "End the reset now: the next episode starts once the arm is home (episodic)."),
    CommandSpec("end_episode", "End the running episode now; its outcome comes next (episodic)."),
    CommandSpec("exclude", "Leave a finished episode out of the statistics, with a reason (episodic; it stays "
                           "saved).", ExcludeBody),
)

COMMANDS: Mapping[str, CommandSpec] = {spec.name: spec for spec in _SPECS}
"""Every command, in the order the page and the API list them."""

COMMAND_NAMES: tuple[str, ...] = tuple(COMMANDS)


# ------------------------------------------------------------------ argument validation


class ArgsError(ValueError):
    """The arguments do not fit the command's model; ``issues`` has the REST 422 ``detail`` shape."""

    def __init__(self, name: str, issues: list[dict[str, Any]]) -> None:
        self.issues = issues
        first = issues[0] if issues else {"loc": [], "msg": "invalid"}
        where = ".".join(str(part) for part in first["loc"]) or "args"
        super().__init__(f"bad arguments for {name}: {where}: {first['msg']}")


def args_of(body: BaseModel | None) -> dict[str, Any]:
    """The validated body as the session's ``args`` (unset options left out)."""
    return body.model_dump(exclude_none=True) if body is not None else {}


def validate_args(name: str, raw: Any, *, clean: Any = None) -> dict[str, Any]:
    """Validate raw arguments (``None`` = none) exactly as the REST body; raises ``ArgsError``.

    ``clean`` turns pydantic's error dicts into the wire's issue dicts (the API passes its own, which bounds
    echoed input); without it the issues keep type, loc and msg.
    """
    spec = COMMANDS[name]
    try:
        body = spec.args.model_validate({} if raw is None else raw)
    except ValidationError as exc:
        errors = exc.errors()
        issues = clean(errors) if clean is not None else [
            {"type": str(e.get("type")), "loc": list(e.get("loc", ())), "msg": str(e.get("msg"))} for e in errors]
        for issue in issues:
            issue["loc"] = ["args", *issue["loc"]]
        raise ArgsError(name, issues) from None
    return args_of(body)


# ------------------------------------------------------------------ commands and their results

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
    """What happened to a command: accepted (and the phase after it) or refused with a reason."""

    accepted: bool
    phase: Phase
    detail: str | None = None
    outcome: CommandOutcome = CommandOutcome.APPLIED

    @classmethod
    def refused(cls, phase: Phase, detail: str,
                outcome: CommandOutcome = CommandOutcome.INVALID_NOW) -> CommandResult:
        """A refusal; by default because the command is not valid in this phase."""
        return cls(False, phase, detail, outcome)

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "phase": self.phase.value, "detail": self.detail,
                "outcome": self.outcome.value}
