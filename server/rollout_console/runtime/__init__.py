"""Runtime: the control loop and the Session facade (phases, commands and events live in ``protocol``)."""

from .builder import build_session
from .control_loop import ControlLoop
from .session import Session

__all__ = ["ControlLoop", "Session", "build_session"]
