"""Typed errors of the client: each says what the server answered, in words, and maps to one ``ctl`` exit status."""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadRequest",
    "CommandRejected",
    "ConsoleError",
    "LeaseHeld",
    "NotApplied",
    "NotFound",
    "Unauthorized",
    "Unreachable",
]


class ConsoleError(Exception):
    """Anything the console refused or could not answer. ``status`` is the HTTP status (None: no answer)."""

    exit_status = 1

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class CommandRejected(ConsoleError):
    """409 (not valid now: the phase, the strategy, a session already running) or 422 (bad arguments).

    Nothing changed on the server. ``issues`` holds the 422 problem list (``loc``, ``msg``) when there is one.
    """

    exit_status = 3

    def __init__(self, reason: str, *, status: int | None = None, issues: list[dict[str, Any]] | None = None) -> None:
        super().__init__(reason, status=status)
        self.issues = issues or []


class LeaseHeld(ConsoleError):
    """423: another client holds control. ``holder`` describes it (``label``, ``id``, ...) when known."""

    exit_status = 4

    def __init__(self, reason: str, *, status: int | None = 423, holder: dict[str, Any] | None = None) -> None:
        super().__init__(reason, status=status)
        self.holder = holder


class NotApplied(ConsoleError):
    """503: the control loop did not apply the command in time; it was withdrawn and will never apply."""

    exit_status = 5


class Unreachable(ConsoleError):
    """No answer: the server is down, restarting, or the address is wrong."""

    exit_status = 5


class Unauthorized(ConsoleError):
    """401 (a token is missing or wrong) or 403 (a viewer token, a foreign origin): not allowed."""

    exit_status = 6


class NotFound(ConsoleError):
    """404: no such command, episode, camera, session, or nothing of the kind with this strategy."""

    exit_status = 3


class BadRequest(ConsoleError):
    """400 or 413: the request itself was malformed (a bad client id, a body too large)."""

    exit_status = 2
