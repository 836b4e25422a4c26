"""ThreadSafeRobot: serialises robot I/O so the loop, a handover helper or a test can share one robot."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from .protocols import CameraSource, FeatureSpec, Robot, TaskReporter

__all__ = ["ThreadSafeRobot"]


class ThreadSafeRobot:
    """Locks only the two I/O calls; read-only properties pass straight through."""

    def __init__(self, robot: Robot) -> None:
        self.inner = robot
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def id(self) -> str:
        return self.inner.id

    @property
    def observation_features(self) -> dict[str, FeatureSpec]:
        return self.inner.observation_features

    @property
    def action_features(self) -> dict[str, FeatureSpec]:
        return self.inner.action_features

    @property
    def cameras(self) -> Mapping[str, CameraSource]:
        return self.inner.cameras

    @property
    def is_connected(self) -> bool:
        return self.inner.is_connected

    def connect(self) -> None:
        with self._lock:
            self.inner.connect()

    def disconnect(self) -> None:
        with self._lock:
            self.inner.disconnect()

    def get_observation(self) -> dict[str, Any]:
        with self._lock:
            return self.inner.get_observation()

    def send_action(self, action: dict[str, float]) -> dict[str, float]:
        with self._lock:
            return self.inner.send_action(action)

    def task_status(self) -> dict[str, Any] | None:
        """The robot's own task report (the TaskReporter extension, e.g. the sim); None when it has none."""
        inner = self.inner
        return inner.task_status() if isinstance(inner, TaskReporter) else None
