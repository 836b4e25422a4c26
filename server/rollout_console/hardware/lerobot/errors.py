"""Error translation and the no-prompt guard shared by the LeRobot robot and teleoperator adapters.

LeRobot devices raise whatever their bus or SDK raises (``ConnectionError``, ``OSError`` from the
serial port, ``RuntimeError`` from a failed sync read, LeRobot's own ``DeviceNotConnectedError``).
``translated`` turns every one of them into our ``HardwareError`` family with the device's name in
front, so the session reports "so101_follower my_arm: reading the robot failed: ..." instead of a
traceback. ``no_prompts`` makes any ``input()`` during connect fail at once: a server has no terminal
to answer LeRobot's calibration questions and must never hang on one.
"""

from __future__ import annotations

import builtins
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ...errors import DeviceNotConnectedError, HardwareError

__all__ = ["PromptRefused", "calibrate_command", "no_prompts", "translated"]

_prompt_lock = threading.Lock()


class PromptRefused(HardwareError):
    """A LeRobot device asked a question on the terminal (``input()``) while the console connected it."""


def calibrate_command(kind: str, device_type: str, options: dict[str, Any]) -> str:
    """The ``lerobot-calibrate`` command line for this device (``kind`` is "robot" or "teleop")."""
    parts = ["lerobot-calibrate", f"--{kind}.type={device_type}"]
    for name in ("port", "id"):
        value = options.get(name)
        parts.append(f"--{kind}.{name}={value if value not in (None, '') else '<' + name + '>'}")
    return " ".join(parts)


@contextlib.contextmanager
def no_prompts(label: str, hint: str) -> Iterator[None]:
    """Replace ``builtins.input`` so a prompt raises PromptRefused (with ``hint``) instead of blocking."""

    def refuse(prompt: object = "") -> str:
        question = " ".join(str(prompt).split())
        raise PromptRefused(f"{label}: it asked a question on the terminal ({question!r}), which the console "
                            f"cannot answer; {hint}")

    with _prompt_lock:
        original = builtins.input
        builtins.input = refuse
        try:
            yield
        finally:
            builtins.input = original


@contextlib.contextmanager
def translated(label: str, doing: str) -> Iterator[None]:
    """Re-raise anything a LeRobot device raises as a HardwareError naming the device."""
    try:
        yield
    except HardwareError:
        raise
    except Exception as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__  # one line: it is shown in the page
        if type(exc).__name__ == "DeviceNotConnectedError":
            raise DeviceNotConnectedError(f"{label}: {doing} failed: not connected ({detail})") from exc
        raise HardwareError(f"{label}: {doing} failed: {type(exc).__name__}: {detail}") from exc
