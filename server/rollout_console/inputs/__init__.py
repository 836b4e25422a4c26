"""Server-side inputs: the foot pedal (evdev) and the device seam it reads through."""

from .device import DeviceOpener, EvdevPedalDevice, MemoryPedalDevice, MemoryPedalOpener, PedalDevice
from .pedal import FootPedal, PedalDecision, PedalState, decide

__all__ = [
    "DeviceOpener",
    "EvdevPedalDevice",
    "FootPedal",
    "MemoryPedalDevice",
    "MemoryPedalOpener",
    "PedalDecision",
    "PedalDevice",
    "PedalState",
    "decide",
]
