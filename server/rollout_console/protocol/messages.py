"""Messages of the event feed: ``GET /api/v1/events`` and the WebSocket's hello, event and ack messages."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .wire_model import WireModel

__all__ = ["Ack", "EventPublic", "EventsPublic", "Hello"]


class EventPublic(WireModel):
    type: Literal["event"] = "event"
    seq: int
    time: float
    kind: str
    data: dict[str, object]


class EventsPublic(WireModel):
    data: list[EventPublic]
    count: int
    last_seq: int


class Hello(WireModel):
    """The first message on ``/api/v1/ws``: who the server is and where its event sequence stands."""

    type: Literal["hello"] = "hello"
    version: str
    session_id: str | None = None
    server_id: str | None = Field(None, description="New on every server start: a change means resync from scratch")
    strategy: str | None = None
    commands: list[str] = Field(default_factory=list)
    cameras: list[str] = Field(default_factory=list)
    event_seq: int = 0
    role: str | None = None
    client: str | None = None
    lease: dict[str, Any] | None = None


class Ack(WireModel):
    """The answer to a command sent over the WebSocket; ``status`` is the HTTP code REST would give."""

    type: Literal["ack"] = "ack"
    id: Any = None
    accepted: bool
    status: int
    phase: str
    detail: str | None = None
    outcome: str | None = Field(None, description="The CommandOutcome; null when the API refused it (403, 423)")
