"""CameraSources over LeRobot-shaped cameras: latest frame with the camera's capture time, never blocking."""

from __future__ import annotations

import time

import numpy as np
from duck_devices import DuckCamera
from helpers import wait_until
from rollout_console.hardware.lerobot.cameras import LeRobotCameraSource, ObservedCameraSource
from rollout_console.hardware.protocols import CameraSource


def test_reader_keeps_the_latest_frame_with_its_capture_time() -> None:
    camera = DuckCamera(width=32, height=24, fps=50)
    source = LeRobotCameraSource("front", camera)
    assert isinstance(source, CameraSource) and (source.width, source.height, source.fps) == (32, 24, 50.0)
    assert source.latest() is None and source.wait_newer(0, 0.05) is None  # not started: no frame, no hang
    source.start()
    try:
        first = source.wait_newer(0, 2.0)
        second = source.wait_newer(first.seq, 2.0)
        assert second.seq == first.seq + 1 and second.captured_at > first.captured_at
        # stamped with the camera's own capture time, moved onto the monotonic clock
        lag = (time.perf_counter() - camera.latest_timestamp) - (time.monotonic() - source.latest().captured_at)
        assert abs(lag) < 0.02
        assert abs(second.captured_wall - (time.time() - (time.monotonic() - second.captured_at))) < 0.01
        wait_until(lambda: 35 < source.stats().fps < 65, timeout=3, message="~50 fps")
        stats = source.stats()
        assert stats.errors == 0 and stats.age_ms < 100 and stats.frames >= 2
    finally:
        source.stop()
    assert not camera.is_connected and source.wait_newer(source.latest().seq, 1.0) is None
    source.start()  # a stopped source can be started again
    try:
        assert source.wait_newer(source.latest().seq, 2.0) is not None
    finally:
        source.stop()


class _Flaky(DuckCamera):
    def __init__(self) -> None:
        super().__init__()
        self.failures = 2

    def async_read(self, timeout_ms: float = 200) -> np.ndarray:
        if self.failures:
            self.failures -= 1
            raise OSError("VIDIOC_DQBUF: No such device")
        return super().async_read(timeout_ms)


def test_read_errors_are_counted_and_retried() -> None:
    source = LeRobotCameraSource("wrist", _Flaky())
    source.start()
    try:
        assert source.wait_newer(0, 3.0) is not None  # recovered after the errors
        stats = source.stats()
        assert stats.errors == 2 and "OSError: VIDIOC_DQBUF" in stats.last_error
        assert stats.last_error.startswith("wrist: ")
    finally:
        source.stop()


def test_observed_source_publishes_new_images_only() -> None:
    source = ObservedCameraSource("left_top", (24, 32, 3), fps=30)
    assert (source.width, source.height) == (32, 24) and source.latest() is None
    image = np.zeros((24, 32, 3), np.uint8)
    source.push(image, captured_at=time.monotonic() - 0.2)
    frame = source.latest()
    assert frame.seq == 1 and frame.image is image and 150 < source.stats().age_ms < 400
    source.push(image)  # the same array again: the robot had no new frame
    assert source.latest().seq == 1
    source.push(image.copy())
    assert source.latest().seq == 2
    source.push(None)
    assert source.stats().errors == 1
    source.close()
    assert source.wait_newer(2, 1.0) is None
