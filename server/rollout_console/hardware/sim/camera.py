"""A sim camera: renders one view of the world at its own frame rate, like a real USB camera."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ...errors import DeviceNotConnectedError
from .render import SceneRenderer, unproject_top
from .world import SimWorld

__all__ = ["SimCamera"]


class SimCamera:
    """``read`` waits for the next frame deadline (absolute pacing), then renders the current world."""

    def __init__(self, view: str, world: SimWorld, width: int, height: int, fps: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = view
        self.width = width
        self.height = height
        self.fps = fps
        self._world = world
        self._clock = clock
        self._renderer = SceneRenderer(view, width, height)
        self._next: float | None = None
        self._connected = False

    def __str__(self) -> str:
        return f"sim camera {self.name}"

    def table_point(self, u: float, v: float) -> tuple[float, float] | None:
        """The table under a normalised pixel of the top view (drags on the page); None for other views."""
        if self.name != "top":
            return None
        return unproject_top(u * self.width, v * self.height, self.width, self.height)

    def connect(self) -> None:
        self._connected = True
        self._next = None

    def disconnect(self) -> None:
        self._connected = False

    def read(self) -> np.ndarray:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self}: not connected")
        period = 1.0 / self.fps
        now = self._clock()
        if self._next is None:
            self._next = now
        elif self._next > now:
            time.sleep(self._next - now)
        elif now - self._next > period:  # fell behind: skip missed frames instead of bursting
            self._next = now
        self._next += period
        return self._renderer.render(self._world.snapshot(self._clock()))
