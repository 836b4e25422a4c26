"""CameraReader and ThreadSafeRobot with small fake devices (the real sim is tested in test_sim.py)."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from helpers import wait_until
from rollout_console.hardware import CameraReader, ThreadSafeRobot


class FlakyCamera:
    name, width, height, fps = "flaky", 8, 6, 100.0

    def __init__(self) -> None:
        self.calls = 0

    def connect(self) -> None: ...

    def disconnect(self) -> None: ...

    def read(self) -> np.ndarray:
        self.calls += 1
        time.sleep(0.01)
        if self.calls in (3, 4):
            raise OSError("USB hiccup")
        return np.full((6, 8, 3), self.calls, np.uint8)


def test_camera_reader_keeps_the_latest_frame_and_survives_errors() -> None:
    reader = CameraReader(FlakyCamera())
    reader.start()
    try:
        frame = wait_until(lambda: (f := reader.latest()) is not None and f.seq >= 5 and f, timeout=30,
                           message="frames")
        assert frame.image.shape == (6, 8, 3)
        assert frame.captured_at <= time.monotonic()
        stats = reader.stats()
        assert stats.errors == 2 and "USB hiccup" in stats.last_error
        newer = reader.wait_newer(frame.seq, timeout=30.0)
        assert newer is not None and newer.seq > frame.seq
    finally:
        reader.stop()
    assert reader.wait_newer(10**9, timeout=0.05) is None


class SlowRobot:
    name, id = "slow", "slow"
    observation_features: dict[str, Any] = {}
    action_features: dict[str, Any] = {}
    cameras: dict[str, Any] = {}
    is_connected = True

    def __init__(self) -> None:
        self.inside = 0
        self.overlap = False

    def _io(self) -> dict[str, float]:
        self.inside += 1
        if self.inside > 1:
            self.overlap = True
        time.sleep(0.002)
        self.inside -= 1
        return {}

    def get_observation(self) -> dict[str, float]:
        return self._io()

    def send_action(self, action: dict[str, float]) -> dict[str, float]:
        return self._io()

    def task_status(self) -> dict[str, str]:
        return {"ok": "yes"}


def test_thread_safe_robot_serialises_io_and_passes_extensions_through() -> None:
    inner = SlowRobot()
    robot = ThreadSafeRobot(inner)

    def hammer() -> None:
        for _ in range(20):
            robot.get_observation()
            robot.send_action({})

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not inner.overlap
    assert robot.task_status() == {"ok": "yes"} and robot.name == "slow"
