"""Reads a camera in its own thread and keeps the latest frame with its capture time."""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from .latest_frame import LatestFrame
from .protocols import Camera, TableProjection

__all__ = ["CameraReader"]

log = logging.getLogger(__name__)

_RETRY_DELAY_S = 0.5


class CameraReader(LatestFrame):
    """Background reader for one ``Camera``: keeps only the newest frame, so readers never queue.

    A failing device is retried (and counted) instead of killing the thread: a camera that hiccups
    must not take the session down. Consumers see the failure as a growing frame age.
    """

    def __init__(self, camera: Camera) -> None:
        super().__init__(camera.name, camera.width, camera.height, camera.fps)
        self.camera = camera
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def table_point(self, u: float, v: float) -> tuple[float, float] | None:
        """The wrapped camera's table point under a normalised pixel (None when it has no such geometry)."""
        camera = self.camera
        return camera.table_point(u, v) if isinstance(camera, TableProjection) else None

    def start(self) -> None:
        if self._thread is not None:
            return
        self.camera.connect()
        self._stop.clear()
        self._reopen()
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self.camera.disconnect()
        self._close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                image = self.camera.read()
            except Exception as exc:  # a device error must not end the reader
                self._failed(str(exc))
                log.warning("camera %s read failed: %s", self.name, exc)
                self._stop.wait(_RETRY_DELAY_S)
                continue
            self._publish(np.asarray(image), time.monotonic())
