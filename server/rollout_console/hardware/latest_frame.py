"""LatestFrame: keeps only a camera's newest frame with its capture time, so readers never queue."""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from .protocols import CameraStats, Frame

__all__ = ["LatestFrame"]

_STATS_WINDOW_S = 2.0


class LatestFrame:
    """The newest frame of one camera, its waiters, and the fps/age/error bookkeeping.

    Base of every ``CameraSource`` (the sim's ``CameraReader`` and the LeRobot sources): a producer
    calls ``_publish`` / ``_failed``; consumers call ``latest``, ``wait_newer`` and ``stats``, which
    never block longer than asked.
    """

    def __init__(self, name: str, width: int, height: int, fps: float) -> None:
        self.name = name
        self.width = width
        self.height = height
        self.fps = fps
        self._latest: Frame | None = None
        self._seq = 0
        self._cond = threading.Condition()
        self._times: deque[float] = deque(maxlen=max(8, int(fps * _STATS_WINDOW_S) + 2))
        self._frames = 0
        self._errors = 0
        self._last_error: str | None = None
        self._closed = False

    def _publish(self, image: np.ndarray, captured_at: float) -> Frame:
        with self._cond:
            self._seq += 1
            age = max(0.0, time.monotonic() - captured_at)
            frame = Frame(image=image, seq=self._seq, captured_at=captured_at, captured_wall=time.time() - age)
            self._latest = frame
            self._frames += 1
            self._times.append(captured_at)
            self._cond.notify_all()
        return frame

    def _failed(self, message: str) -> None:
        self._errors += 1
        self._last_error = f"{self.name}: {message}"

    def _close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _reopen(self) -> None:
        with self._cond:
            self._closed = False

    def latest(self) -> Frame | None:
        return self._latest

    def wait_newer(self, seq: int, timeout: float) -> Frame | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._latest is None or self._latest.seq <= seq:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return None
                self._cond.wait(remaining)
            return self._latest

    def stats(self) -> CameraStats:
        with self._cond:
            times = list(self._times)
            latest = self._latest
        now = time.monotonic()
        recent = [t for t in times if now - t <= _STATS_WINDOW_S]
        fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) >= 2 and recent[-1] > recent[0] else 0.0
        age = (now - latest.captured_at) * 1000.0 if latest is not None else None
        return CameraStats(fps=fps, age_ms=age, width=self.width, height=self.height, frames=self._frames,
                           errors=self._errors, last_error=self._last_error)
