"""Hardware layer: protocols, the threaded camera reader, ThreadSafeRobot and the device registry."""

from .camera_reader import CameraReader
from .protocols import Camera, CameraSource, CameraStats, Frame, Robot, TaskReporter, Teleoperator
from .thread_safe import ThreadSafeRobot

__all__ = [
    "Camera",
    "CameraReader",
    "CameraSource",
    "CameraStats",
    "Frame",
    "Robot",
    "TaskReporter",
    "Teleoperator",
    "ThreadSafeRobot",
]
