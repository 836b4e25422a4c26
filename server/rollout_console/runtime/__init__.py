"""Runtime: the control loop, the Session facade, commands, phases and events."""

from .builder import build_session
from .commands import COMMAND_NAMES, Command, CommandResult
from .control_loop import ControlLoop
from .events import Event, EventBus
from .phases import MOVING, Phase
from .session import Session

__all__ = [
    "COMMAND_NAMES",
    "MOVING",
    "Command",
    "CommandResult",
    "ControlLoop",
    "Event",
    "EventBus",
    "Phase",
    "Session",
    "build_session",
]
