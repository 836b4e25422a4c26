"""CameraSources for LeRobot cameras: the latest frame with its capture time, never blocking the loop.

Two kinds, chosen per camera by the robot adapter:

* ``LeRobotCameraSource`` owns a LeRobot ``Camera`` (OpenCV, RealSense, ZMQ, ...): it connects it,
  waits for each new frame with ``async_read`` in its own thread and keeps the newest one, stamped
  with the camera's own capture time when the camera exposes it (``latest_timestamp``).
* ``ObservedCameraSource`` is fed by the robot's ``get_observation`` for cameras a robot reads itself
  (e.g. bimanual robots whose cameras live in sub-robots); a frame's time is the observation's.

Both keep the contract of ``hardware.protocols.CameraSource``: ``latest`` and ``stats`` never block,
``wait_newer`` waits only as long as asked.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np

from ..latest_frame import LatestFrame

__all__ = ["LeRobotCameraSource", "ObservedCameraSource"]

log = logging.getLogger(__name__)

_RETRY_DELAY_S = 0.2


class LeRobotCameraSource(LatestFrame):
    """Owns one LeRobot camera: ``start`` connects it and runs the reader thread, ``stop`` releases it."""

    def __init__(self, name: str, camera: Any, read_timeout_ms: float | None = None) -> None:
        fps = float(getattr(camera, "fps", None) or 30.0)
        super().__init__(name, int(getattr(camera, "width", 0) or 0), int(getattr(camera, "height", 0) or 0), fps)
        self.camera = camera
        # a few frame periods: long enough for a slow frame, short enough to notice a stop quickly
        self._timeout_ms = read_timeout_ms if read_timeout_ms is not None else max(200.0, 4000.0 / fps)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __str__(self) -> str:
        return f"camera {self.name}"

    def start(self) -> None:
        if self._thread is not None:
            return
        if not getattr(self.camera, "is_connected", False):
            self.camera.connect()
        # the device may settle on another size than configured (e.g. defaults); report what it gives
        self.width = int(getattr(self.camera, "width", None) or self.width)
        self.height = int(getattr(self.camera, "height", None) or self.height)
        self._stop.clear()
        self._reopen()
        self._thread = threading.Thread(target=self._run, name=f"lerobot-camera-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(2.0, 2 * self._timeout_ms / 1000.0))
            self._thread = None
        self._close()
        if getattr(self.camera, "is_connected", False):
            self.camera.disconnect()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                image = self.camera.async_read(timeout_ms=self._timeout_ms)
            except TimeoutError as exc:  # no new frame yet: the growing age tells the consumers
                self._failed(f"timeout: {exc}")
                continue
            except Exception as exc:  # a device error must not end the reader
                self._failed(f"{type(exc).__name__}: {exc}")
                log.warning("camera %s read failed: %s", self.name, exc)
                self._stop.wait(_RETRY_DELAY_S)
                continue
            self._publish(np.asarray(image), self._capture_time())

    def _capture_time(self) -> float:
        """The camera's own capture stamp (``perf_counter`` in LeRobot) on our ``monotonic`` clock."""
        stamp = getattr(self.camera, "latest_timestamp", None)
        now = time.monotonic()
        if not isinstance(stamp, float):
            return now
        age = time.perf_counter() - stamp
        return now - age if 0.0 <= age < 10.0 else now


class ObservedCameraSource(LatestFrame):
    """A camera the robot reads itself; ``push`` is called with each observation's image."""

    def __init__(self, name: str, shape: tuple[int, int, int], fps: float) -> None:
        super().__init__(name, int(shape[1]), int(shape[0]), fps)

    def __str__(self) -> str:
        return f"camera {self.name}"

    def push(self, image: Any, captured_at: float | None = None) -> None:
        if image is None:
            self._failed("the robot returned no image")
            return
        array = np.asarray(image)
        last = self._latest
        if last is not None and last.image is array:
            return  # the robot handed back the frame it already had: not a new frame
        self._publish(array, time.monotonic() if captured_at is None else captured_at)

    def close(self) -> None:
        self._close()
