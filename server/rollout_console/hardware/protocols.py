"""Robot, teleoperator and camera protocols, shaped like LeRobot's so its devices plug in unchanged.

Feature conventions (as LeRobot):
    observation_features: {"<joint>.pos": float, "<camera>": (H, W, 3), ...}
    action_features:      {"<joint>.pos": float, ...}
Values of ``float`` are the ``float`` type object itself (a sentinel), camera shapes are HWC tuples.
Images are RGB ``uint8`` arrays.

Thread affinity: ``get_observation`` and ``send_action`` are called on the control-loop thread only
(ThreadSafeRobot serialises them anyway). Cameras are read by their own threads; consumers only peek
at the latest frame and never block on a device.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Camera", "CameraSource", "CameraStats", "Frame", "Robot", "SceneResetter", "TaskReporter", "Teleoperator"]

FeatureSpec = type | tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Frame:
    """One camera image and when it was captured.

    ``captured_at`` is ``time.monotonic()`` (for ages inside the process); ``captured_wall`` is
    ``time.time()`` (sent to clients so they can measure end-to-end preview latency).
    """

    image: np.ndarray
    seq: int
    captured_at: float
    captured_wall: float


@dataclass(frozen=True, slots=True)
class CameraStats:
    """Health of one camera over the last couple of seconds."""

    fps: float
    age_ms: float | None
    width: int
    height: int
    frames: int
    errors: int
    last_error: str | None


@runtime_checkable
class Camera(Protocol):
    """A camera device. ``read`` blocks until the device delivers its next frame (the device paces)."""

    name: str
    width: int
    height: int
    fps: float

    def connect(self) -> None: ...

    def read(self) -> np.ndarray: ...

    def disconnect(self) -> None: ...


@runtime_checkable
class CameraSource(Protocol):
    """The latest frame of a camera, read in the background. Never blocks the caller on the device."""

    name: str
    width: int
    height: int
    fps: float

    def latest(self) -> Frame | None: ...

    def wait_newer(self, seq: int, timeout: float) -> Frame | None: ...

    def stats(self) -> CameraStats: ...


@runtime_checkable
class TableProjection(Protocol):
    """A camera that can say which point of the table a pixel shows (the sim's top view): drag targets."""

    def table_point(self, u: float, v: float) -> tuple[float, float] | None:
        """World (x, y) metres under the normalised pixel (u, v) in 0..1, or None where it is not defined."""
        ...


@runtime_checkable
class Robot(Protocol):
    """A robot the console drives (LeRobot's Robot interface plus ``cameras``)."""

    name: str
    id: str

    @property
    def observation_features(self) -> dict[str, FeatureSpec]: ...

    @property
    def action_features(self) -> dict[str, FeatureSpec]: ...

    @property
    def cameras(self) -> Mapping[str, CameraSource]: ...

    @property
    def is_connected(self) -> bool: ...

    def connect(self) -> None: ...

    def disconnect(self) -> None: ...

    def get_observation(self) -> dict[str, Any]: ...

    def send_action(self, action: dict[str, float]) -> dict[str, float]:
        """Command joint goals; returns what was actually sent (after clipping to limits)."""
        ...


@runtime_checkable
class Teleoperator(Protocol):
    """A leader device whose joint readings become robot actions during corrections."""

    name: str

    @property
    def action_features(self) -> dict[str, FeatureSpec]: ...

    @property
    def is_connected(self) -> bool: ...

    def connect(self) -> None: ...

    def disconnect(self) -> None: ...

    def get_action(self) -> dict[str, float]: ...


@runtime_checkable
class TaskReporter(Protocol):
    """Optional: a robot (the sim) that can tell whether its task succeeded."""

    def task_status(self) -> dict[str, Any]: ...


class SceneResetter(Protocol):
    """Optional: a robot (the sim) that can put its scene back itself between evaluation episodes."""

    def reset_scene(self, seed: int | None = None) -> None: ...
