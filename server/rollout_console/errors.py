"""Exception hierarchy for rollout-console.

    ConsoleError                     base of everything the console raises on purpose
    ├── ConfigError                  a flag, file or combination of options is invalid (exit status 2)
    ├── HardwareError                a robot, teleoperator or camera failed
    │   └── DeviceNotConnectedError  I/O on a device that is not connected
    ├── InferenceError               a policy or inference engine failed
    ├── RecordingError               writing, recovering or uploading a dataset failed
    └── CommandRejected              a command is not valid now; carries the reason

Messages start with the component that raised them (``"sim robot: ..."``) so an operator can tell
which device or stage failed without a traceback.
"""

from __future__ import annotations

__all__ = [
    "CommandRejected",
    "ConfigError",
    "ConsoleError",
    "DeviceNotConnectedError",
    "HardwareError",
    "InferenceError",
    "RecordingError",
]


class ConsoleError(Exception):
    """Base class of every error the console raises deliberately."""


class ConfigError(ConsoleError):
    """Invalid configuration; ``flag`` names the option at fault when one is known."""

    def __init__(self, message: str, flag: str | None = None) -> None:
        super().__init__(message)
        self.flag = flag

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self.flag}: {text}" if self.flag else text


class HardwareError(ConsoleError):
    """A robot, teleoperator or camera failed."""


class DeviceNotConnectedError(HardwareError):
    """I/O was attempted on a device that is not connected."""


class InferenceError(ConsoleError):
    """A policy or inference engine failed."""


class RecordingError(ConsoleError):
    """Writing, recovering or uploading a dataset failed."""


class CommandRejected(ConsoleError):
    """A command is not valid in the current phase; the message is the reason shown to the operator."""
