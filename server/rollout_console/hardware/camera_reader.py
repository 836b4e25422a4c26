"""Reads a camera in its own thread and keeps the latest frame with its capture time."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

import numpy as np

from .protocols import Camera, CameraStats, Frame

__all__ = ["CameraReader"]

log = logging.getLogger(__name__)

_RETRY_DELAY_S = 0.5


class CameraReader:
    """Background reader for one ``Camera``: keeps only the newest frame, so readers never queue.

    A failing device is retried (and counted) instead of killing the thread: a camera that hiccups
    must not take the session down. Consumers see the failure as a growing frame age.
    """

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self.name = camera.name
        self.width = camera.width
        self.height = camera.height
        self.fps = camera.fps
        self._latest: Frame | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._times: deque[float] = deque(maxlen=max(8, int(self.fps * 2)))
        self._frames = 0
        self._errors = 0
        self._last_error: str | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self.camera.connect()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self.camera.disconnect()
        with self._cond:
            self._cond.notify_all()

    def _run(self) -> None:
        seq = 0
        while not self._stop.is_set():
            try:
                image = self.camera.read()
            except Exception as exc:  # a device error must not end the reader
                self._errors += 1
                self._last_error = f"{self.name}: {exc}"
                log.warning("camera %s read failed: %s", self.name, exc)
                self._stop.wait(_RETRY_DELAY_S)
                continue
            seq += 1
            frame = Frame(image=np.asarray(image), seq=seq, captured_at=time.monotonic(),
                          captured_wall=time.time())
            with self._cond:
                self._latest = frame
                self._frames += 1
                self._times.append(frame.captured_at)
                self._cond.notify_all()

    def latest(self) -> Frame | None:
        return self._latest

    def wait_newer(self, seq: int, timeout: float) -> Frame | None:
        """Block up to ``timeout`` for a frame with a sequence number above ``seq``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._latest is None or self._latest.seq <= seq:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(remaining)
            return self._latest

    def stats(self) -> CameraStats:
        with self._cond:
            times = list(self._times)
            latest = self._latest
        now = time.monotonic()
        recent = [t for t in times if now - t <= 2.0]
        fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) >= 2 and recent[-1] > recent[0] else 0.0
        age = (now - latest.captured_at) * 1000.0 if latest else None
        return CameraStats(fps=fps, age_ms=age, width=self.width, height=self.height, frames=self._frames,
                           errors=self._errors, last_error=self._last_error)
