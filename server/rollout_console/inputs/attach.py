"""Attaches the server-side inputs of a config to a ConsoleHost: they submit to its current session."""

from __future__ import annotations

from typing import Any

from ..config import RolloutConsoleConfig
from ..runtime.host import ConsoleHost
from .pedal import FootPedal

__all__ = ["attach_inputs"]


def attach_inputs(host: ConsoleHost, config: RolloutConsoleConfig, *, pedal_opener: Any = None) -> None:
    """The foot pedal when ``--pedal.enabled``; ``pedal_opener`` replaces how its device is opened (tests)."""
    if not config.pedal.enabled:
        return
    pedal = FootPedal(
        config.pedal,
        submit=lambda name, args=None, source="pedal": host.submit(name, args, source=source),
        phase=lambda: host.phase,
        opener=pedal_opener,
        on_status=lambda status: host.events.publish("pedal", state=status["state"], message=status["message"],
                                                     fix=status["fix"]),
    )
    host.add_input("pedal", pedal)
