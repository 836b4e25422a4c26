"""The one place a command's outcome becomes an HTTP status (REST responses and the WS ack ``status``).

The domain (runtime, strategies) says what happened as a ``CommandOutcome``; the codes are the API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..protocol.commands import CommandOutcome, CommandResult
from ..protocol.phases import Phase

__all__ = ["HTTP_STATUS", "AccessRefusal", "ack_fields", "http_status"]

HTTP_STATUS: dict[CommandOutcome, int] = {
    CommandOutcome.APPLIED: 200,
    CommandOutcome.ALREADY: 200,
    CommandOutcome.PENDING: 202,
    CommandOutcome.INVALID_NOW: 409,
    CommandOutcome.FAILED: 409,
    CommandOutcome.UNKNOWN: 404,
    CommandOutcome.BAD_ARGS: 422,
    CommandOutcome.TIMED_OUT: 503,
}


def http_status(outcome: CommandOutcome) -> int:
    return HTTP_STATUS[outcome]


@dataclass(frozen=True, slots=True)
class AccessRefusal:
    """A command refused by the API before it reached the session: 403 (viewer) or 423 (lease).

    Not a domain outcome: the session never saw the command, so its ack carries ``outcome: null``.
    """

    status: int
    phase: Phase
    detail: str


def ack_fields(result: CommandResult | AccessRefusal) -> dict[str, Any]:
    """The WebSocket ack's fields for a result (``status`` HTTP-like, ``outcome`` the domain's word)."""
    if isinstance(result, AccessRefusal):
        return {"accepted": False, "status": result.status, "outcome": None, "phase": result.phase.value,
                "detail": result.detail}
    return {"accepted": result.accepted, "status": http_status(result.outcome), "outcome": result.outcome.value,
            "phase": result.phase.value, "detail": result.detail}
