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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .phases import Phase

__all__ = [
    "COMMANDS",
    "COMMAND_LABELS",
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
    """One command: its name, the help an operator reads, and the model its arguments must fit.

    ``label`` is the one operator-facing name of the command (buttons, hotkey dialog, API listings), so the
    desktop page, the tablet and scripts never call the same command by two names.
    """

    name: str
    help: str
    args: type[BaseModel] = EmptyBody
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:  # frozen: set the default label through object.__setattr__
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())


_SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("pause", "Stop the policy and hold the current position.", label="Pause"),
    CommandSpec("resume", "Hand control back to the policy (from paused; after an E-STOP, reset first).",
                label="Resume"),
    CommandSpec("takeover", "Start a human correction with the leader arm (dagger).", label="Take over"),
    CommandSpec("handback", "End the correction and hold (dagger).", label="Hand back"),
    CommandSpec("mark", "Keep the ring buffer as the start of a new episode and record live (highlight).",
                label="Mark"),
    CommandSpec("save", "Save the current episode.", SaveBody, label="Save"),
    CommandSpec("discard", "Drop the episode or correction in progress.", label="Discard"),
    CommandSpec("upload", "Upload the saved episodes to the Hub now.", label="Upload"),
    CommandSpec("stop", "End the session (returns home when configured).", label="Stop"),
    CommandSpec("estop", "Emergency stop: no more motion commands until the E-STOP is cleared (reset).",
                label="E-STOP"),
    CommandSpec("reset", "Clear the E-STOP: the robot stays paused, holding where it is; resume is a second, "
                         "deliberate step.", label="Clear E-STOP"),
    CommandSpec("end_reset", "End the reset now: the next episode starts once the arm is home (episodic).",
                label="End reset"),
    CommandSpec("end_episode", "End the running episode now; its outcome comes next (episodic).",
                label="End episode"),
    CommandSpec("exclude", "Leave a finished episode out of the statistics, with a reason (episodic; it stays "
                           "saved).", ExcludeBody, label="Exclude"),
)

COMMANDS: Mapping[str, CommandSpec] = {spec.name: spec for spec in _SPECS}
"""Every command, in the order the page and the API list them."""

COMMAND_NAMES: tuple[str, ...] = tuple(COMMANDS)

COMMAND_LABELS: Mapping[str, str] = {spec.name: spec.label for spec in _SPECS}
"""name -> the operator-facing label (the page's buttons and the API listings use these)."""


# ------------------------------------------------------------------ argument validation


IssueCleaner = Callable[[Sequence[Any]], list[dict[str, Any]]]
"""Turns pydantic's error dicts into the wire's issue dicts (the API's bounds what it echoes)."""


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


def validate_args(name: str, raw: Any, *, clean: IssueCleaner | None = None) -> dict[str, Any]:
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
