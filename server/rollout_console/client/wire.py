"""What the sync and async consoles share: addresses, headers, and the translation of answers.

Everything here is pure (no I/O), so ``Console`` and ``AsyncConsole`` only differ in how they wait.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel

from ..protocol.commands import CommandOutcome
from ..protocol.phases import Phase
from ..protocol.replies import CommandAccepted
from .errors import (
    BadRequest,
    CommandRejected,
    ConsoleError,
    LeaseHeld,
    NotApplied,
    NotFound,
    Unauthorized,
)

__all__ = ["CommandReply", "client_headers", "command_body", "error_for", "new_client_id", "normalize_url",
           "raise_for_status", "reply_of", "ws_url"]

_CLIENT_ID = re.compile(r"^[!-~]{1,128}$")  # the server's rule: visible ASCII, no spaces, 1..128


@dataclass(frozen=True)
class CommandReply:
    """An applied command: the phase after it, the server's detail and the ``CommandOutcome``
    (``applied``, ``already`` or ``pending``: a 202, applied but its result, a save, not yet confirmed)."""

    name: str
    phase: Phase | str
    detail: str | None
    outcome: CommandOutcome | str = CommandOutcome.APPLIED
    status: int = 200

    @property
    def already(self) -> bool:
        """True when the command's effect already held and nothing changed (e.g. pause while paused)."""
        return self.outcome == CommandOutcome.ALREADY

    @property
    def pending(self) -> bool:
        """True for a 202: applied, its outcome not confirmed within --loop.ack_timeout_s (watch the events)."""
        return self.outcome == CommandOutcome.PENDING or self.status == 202


def normalize_url(url: str) -> str:
    """``host:port`` or ``http://host:port/`` -> ``http://host:port`` (no trailing slash)."""
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"console URL must look like http://host:port, not {url!r}")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def ws_url(base: str, path: str, query: dict[str, Any]) -> str:
    scheme = "wss" if base.startswith("https://") else "ws"
    rest = base.split("://", 1)[1]
    clean = {key: value for key, value in query.items() if value is not None}
    return f"{scheme}://{rest}{path}" + (f"?{urlencode(clean)}" if clean else "")


def new_client_id(name: str | None) -> str:
    """The client id sent as ``X-Client-Id``: ``name`` if given (checked), else ``script-<random>``."""
    if name is None:
        return f"script-{uuid.uuid4().hex[:8]}"
    if not _CLIENT_ID.match(name):
        raise ValueError(f"name {name!r}: a client id is 1 to 128 visible ASCII characters without spaces")
    return name


def client_headers(token: str | None, client_id: str) -> dict[str, str]:
    headers = {"X-Client-Id": client_id, "User-Agent": "rollout-console-client"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def command_body(args: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON body of a command: its arguments (None-valued ones left out), or no body at all."""
    body = {key: value for key, value in args.items() if value is not None}
    return body or None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(body: Any, response: httpx.Response) -> str:
    if isinstance(body, dict):
        detail = body.get("detail", body.get("reason"))
        if isinstance(detail, str):
            return detail
        if isinstance(detail, list) and detail:
            return "; ".join(_issue_text(issue) for issue in detail if isinstance(issue, dict))
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _issue_text(issue: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in issue.get("loc", []) if part != "body")
    return f"{where}: {issue.get('msg', '')}" if where else str(issue.get("msg", ""))


def error_for(response: httpx.Response) -> ConsoleError:
    """The typed error for a refusal (any status >= 400)."""
    body = _json(response)
    reason = _reason(body, response)
    status = response.status_code
    if status in (401, 403):
        return Unauthorized(reason, status=status)
    if status == 423:
        holder = body.get("holder") if isinstance(body, dict) else None
        return LeaseHeld(reason, status=status, holder=holder if isinstance(holder, dict) else None)
    if status in (409, 422):
        issues = body.get("detail") if isinstance(body, dict) and isinstance(body.get("detail"), list) else None
        return CommandRejected(reason, status=status, issues=issues)
    if status == 404:
        return NotFound(reason, status=status)
    if status == 503:
        return NotApplied(reason, status=status)
    if status in (400, 413):
        return BadRequest(reason, status=status)
    return ConsoleError(reason, status=status)


def raise_for_status(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise error_for(response)


def reply_of(name: str, response: httpx.Response) -> CommandReply:
    """A command's answer: a CommandReply for 200/202, the typed error otherwise."""
    raise_for_status(response)
    body = response.json()
    accepted = CommandAccepted.model_validate(body)
    outcome = accepted.outcome if isinstance(body, dict) and "outcome" in body else _outcome_of(response, accepted)
    return CommandReply(name=name, phase=_known(Phase, accepted.phase), detail=accepted.detail,
                        outcome=_known(CommandOutcome, outcome), status=response.status_code)


def _outcome_of(response: httpx.Response, accepted: CommandAccepted) -> str:
    """A server from before ``outcome`` was sent: read it from the status and the detail's words."""
    if response.status_code == 202:
        return CommandOutcome.PENDING.value
    if accepted.detail and accepted.detail.startswith("already"):
        return CommandOutcome.ALREADY.value
    return CommandOutcome.APPLIED.value


def _known(enum: Any, value: str) -> Any:
    """The enum member for a value this client knows; the plain string for one a newer server added."""
    try:
        return enum(value)
    except ValueError:
        return value


def config_body(config: Any) -> dict[str, Any]:
    """A session config as JSON: a dict, or any pydantic model (e.g. the server's own config models)."""
    if isinstance(config, BaseModel):
        return config.model_dump(mode="json", exclude_unset=True)
    if isinstance(config, dict):
        return config
    raise TypeError(f"a session config is a dict or a pydantic model, not {type(config).__name__}")
