"""Command arguments: one model per command, the single validation point for REST and WebSocket.

REST declares the model as the route's body (so the OpenAPI shows it and FastAPI validates it); the
control WebSocket validates ``args`` with ``validate_args``; both hand ``args_of(model)`` to the session,
so a WebSocket command can never carry what the REST route would refuse.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import clean_issues
from .schemas import EmptyBody

__all__ = ["COMMAND_BODIES", "ArgsError", "ExcludeBody", "SaveBody", "args_of", "body_model", "validate_args"]


class SaveBody(BaseModel):
    """``save`` may label the episode with the outcome of the attempt (stored with the episode)."""

    model_config = ConfigDict(extra="forbid")
    outcome: Literal["success", "failure", "unknown"] | None = Field(None, description="How the attempt ended")


class ExcludeBody(BaseModel):
    """``exclude`` leaves a finished episode out of the statistics; the results keep it with the reason."""

    model_config = ConfigDict(extra="forbid")
    episode: int = Field(ge=1, description="Episode number as shown (1 = the first)")
    reason: str = Field(min_length=1, max_length=500, description="Why it does not count (shown in the results)")


COMMAND_BODIES: dict[str, type[BaseModel]] = {"save": SaveBody, "exclude": ExcludeBody}
"""Commands that take arguments; every other command accepts an empty object or no body."""


class ArgsError(ValueError):
    """The arguments do not fit the command's model; ``issues`` has the REST 422 ``detail`` shape."""

    def __init__(self, name: str, issues: list[dict[str, Any]]) -> None:
        self.issues = issues
        first = issues[0] if issues else {"loc": [], "msg": "invalid"}
        where = ".".join(str(part) for part in first["loc"]) or "args"
        super().__init__(f"bad arguments for {name}: {where}: {first['msg']}")


def body_model(name: str) -> type[BaseModel]:
    return COMMAND_BODIES.get(name, EmptyBody)


def args_of(body: BaseModel | None) -> dict[str, Any]:
    """The validated body as the session's ``args`` (unset options left out)."""
    return body.model_dump(exclude_none=True) if body is not None else {}


def validate_args(name: str, raw: Any) -> dict[str, Any]:
    """Validate raw arguments (``None`` = none) exactly as the REST body; raises ``ArgsError``."""
    try:
        body = body_model(name).model_validate({} if raw is None else raw)
    except ValidationError as exc:
        issues = clean_issues(exc.errors())
        for issue in issues:
            issue["loc"] = ["args", *issue["loc"]]
        raise ArgsError(name, issues) from None
    return args_of(body)
