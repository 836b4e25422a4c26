"""Resync rules of the event stream, shared by the sync and async consoles (pure: no I/O).

The server numbers events per process and replays buffered ones after ``?since=N``. After a reconnect the
stream asks for what it missed; when ``hello`` names another server (a restart: new ``server_id``; older
servers only send ``session_id``) the numbering started again, so it reconnects from scratch and yields a
``resync`` notice saying so. A notice is an :class:`EventPublic` made by the client: ``seq`` 0 and kind
``resync`` with ``reason`` (``server_restarted`` or ``gap``) and ``message``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from ..protocol.messages import EventPublic, Hello

__all__ = ["RESYNC", "EventCursor", "Backoff"]

RESYNC = "resync"
log = logging.getLogger("rollout_console.client")


def notice(reason: str, message: str, **data: Any) -> EventPublic:
    log.warning("event stream: %s", message)
    return EventPublic(seq=0, time=time.time(), kind=RESYNC, data={"reason": reason, "message": message, **data})


@dataclass
class EventCursor:
    """Where the stream stands: the server it follows and the last sequence number it delivered."""

    since: int | None = None
    identity: str | None = None
    from_scratch: bool = False
    pending: list[EventPublic] = field(default_factory=list)

    def query(self) -> int | None:
        """The ``since`` to connect with (None: only new events)."""
        return 0 if self.from_scratch else self.since

    def on_hello(self, raw: dict[str, Any]) -> bool:
        """Check the server's identity; False means: close and reconnect from scratch (queued a notice)."""
        hello = Hello.model_validate(raw)
        identity = hello.server_id or hello.session_id
        if self.identity is not None and identity != self.identity and not self.from_scratch:
            self.pending.append(notice(
                "server_restarted",
                f"the server restarted ({self.identity} -> {identity}); events start again from the beginning",
                previous=self.identity, server=identity))
            self.identity, self.since, self.from_scratch = identity, 0, True
            return False
        self.identity = identity  # since stays None on a first connection without it: every new event counts
        self.from_scratch = False
        return True

    def accept(self, raw: dict[str, Any]) -> EventPublic | None:
        """The event to yield, or None for one already delivered; queues a ``gap`` notice if some were lost."""
        event = EventPublic.model_validate(raw)
        if self.since is not None and event.seq <= self.since:
            return None
        if self.since is not None and event.seq > self.since + 1:
            self.pending.append(notice(
                "gap", f"events {self.since + 1} to {event.seq - 1} were lost (the server's replay buffer moved on)",
                first_missing=self.since + 1, last_missing=event.seq - 1))
        self.since = event.seq
        return event

    def take_notices(self) -> list[EventPublic]:
        notices, self.pending = self.pending, []
        return notices


@dataclass
class Backoff:
    """Reconnect delays: 0.2 s doubling to ``limit``; reset after a successful connection."""

    limit: float = 2.0
    delay: float = 0.2

    def next(self) -> float:
        current = self.delay
        self.delay = min(self.limit, self.delay * 2)
        return current

    def reset(self) -> None:
        self.delay = 0.2
