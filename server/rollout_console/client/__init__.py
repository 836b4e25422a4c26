"""A Python client for a running rollout-console: typed status, commands, events, control, sessions.

    from rollout_console.client import Console

    console = Console("http://127.0.0.1:8000")
    with console.control(label="nightly run"):
        console.pause()

Imports only httpx, websockets, pydantic and ``rollout_console.protocol`` (never the server's stack), so it
installs on a laptop without torch, OpenCV or PyAV: ``pip install ./client`` (see docs/scripting.md).
"""

from __future__ import annotations

from ..protocol.commands import CommandOutcome
from ..protocol.episodes import EpisodePublic
from ..protocol.evaluation import EvaluationPublic
from ..protocol.messages import EventPublic
from ..protocol.phases import Phase
from ..protocol.sessions import SessionRecord
from ..protocol.status import StatusPublic
from .aio import AsyncConsole, AsyncControl
from .console import Console, Control
from .errors import (
    BadRequest,
    CommandRejected,
    ConsoleError,
    LeaseHeld,
    NotApplied,
    NotFound,
    Unauthorized,
    Unreachable,
)
from .stream import RESYNC
from .wire import CommandReply

__all__ = [
    "RESYNC",
    "AsyncConsole",
    "AsyncControl",
    "BadRequest",
    "CommandOutcome",
    "CommandRejected",
    "CommandReply",
    "Console",
    "ConsoleError",
    "Control",
    "EpisodePublic",
    "EvaluationPublic",
    "EventPublic",
    "LeaseHeld",
    "NotApplied",
    "NotFound",
    "Phase",
    "SessionRecord",
    "StatusPublic",
    "Unauthorized",
    "Unreachable",
]
