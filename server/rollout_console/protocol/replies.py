"""Answers to requests: an applied command, a refusal in words, a 422 problem, health, the lease answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .wire_model import WireModel

__all__ = ["CommandAccepted", "ErrorDetail", "Health", "LeaseAnswer", "ValidationIssue", "ValidationProblem"]


class ErrorDetail(WireModel):
    detail: str = Field(description="Why the request was refused")


class ValidationIssue(WireModel):
    type: str = Field(description="Machine-readable kind, e.g. missing, json_invalid, literal_error")
    loc: list[str | int] = Field(description='Where: ["body", "outcome"], ["query", "since"], ...')
    msg: str = Field(description="What is wrong, in words")
    input: object | None = Field(None, description="The offending value; only echoed when small and finite")
    ctx: dict[str, str] | None = Field(None, description="Details of the rule that failed")


class ValidationProblem(WireModel):
    """Every 422 has this shape (FastAPI's), whether FastAPI or the body guard refused the request."""

    detail: list[ValidationIssue]


class Health(WireModel):
    ok: bool
    phase: str
    version: str


class CommandAccepted(WireModel):
    accepted: Literal[True] = True
    phase: str = Field(description="Phase after the command was applied")
    detail: str | None = Field(None, description="Set when the command changed nothing (already in effect)")
    outcome: str = Field("applied", description="What became of the command: applied, already or pending")


class LeaseAnswer(WireModel):
    ok: bool
    reason: str
    holder: dict[str, Any] | None
