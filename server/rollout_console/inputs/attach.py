"""Attaches the server-side inputs of a config to the server-level owner (a ConsoleHost).

The pedal submits to whatever session is current, through the host, and runs whether or not a web
server is around. ``InputHost`` names what an input needs of the host, so this package does not import
the runtime (the dependency arrows point from the composition, the CLI, to both).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..config import RolloutConsoleConfig
from ..protocol.commands import CommandResult
from ..protocol.events import EventBus
from ..protocol.phases import Phase
from .pedal import FootPedal

__all__ = ["InputHost", "attach_inputs"]


class InputHost(Protocol):
    """What a server-side input needs: submit to the current session, its phase, the events, attachment."""

    events: EventBus

    @property
    def phase(self) -> Phase: ...

    def submit(self, name: str, args: dict[str, Any] | None = None, source: str = "api",
               timeout: float | None = None) -> CommandResult: ...

    def add_input(self, name: str, device: Any) -> None: ...


def attach_inputs(host: InputHost, config: RolloutConsoleConfig, *, pedal_opener: Any = None) -> None:
    """The foot pedal when ``--pedal.enabled``; ``pedal_opener`` replaces how its device is opened (tests)."""
    if not config.pedal.enabled:
        return
    def announce(status: dict[str, Any]) -> None:
        host.events.publish("pedal", state=status["state"], message=status["message"], fix=status["fix"])

    pedal = FootPedal(
        config.pedal,
        submit=lambda name, args=None, source="pedal": host.submit(name, args, source=source),
        phase=lambda: host.phase,
        opener=pedal_opener,
        on_status=announce,
    )
    host.add_input("pedal", pedal)
