"""CameraSources over LeRobot-shaped cameras: latest frame with the camera's capture time, never blocking."""

from __future__ import annotations

import time

import numpy as np
import pytest
from duck_devices import DuckCamera
from helpers import wait_until
from rollout_console.hardware import latest_frame as latest_frame_module
from rollout_console.hardware.lerobot.cameras import LeRobotCameraSource, ObservedCameraSource
from rollout_console.hardware.protocols import CameraSource


def test_reader_keeps_the_latest_frame_with_its_capture_time() -> None:
    # frames arrive 3 s after their capture stamp: a source that stamped arrival instead would be 3 s off,
    # far outside the 1 s allowed for scheduling delays on a loaded machine
    lag_s = 3.0
    camera = DuckCamera(width=32, height=24, fps=50, stamp_lag_s=lag_s)
    source = LeRobotCameraSource("front", camera)
    assert isinstance(source, CameraSource) and (source.width, source.height, source.fps) == (32, 24, 50.0)
    assert source.latest() is None and source.wait_newer(0, 0.05) is None  # not started: no frame, no hang
    source.start()
    try:
        first = source.wait_newer(0, 30.0)
        second = source.wait_newer(first.seq, 30.0)
        assert second.seq == first.seq + 1 and second.captured_at > first.captured_at
        # stamped with the camera's own capture time (perf_counter), moved onto the monotonic clock
        published = time.monotonic()
        assert published - lag_s - 1.0 < second.captured_at <= published - lag_s + 0.01
        # and onto the wall clock for the dataset's timestamps
        wall_offset = time.time() - time.monotonic()
        assert abs(second.captured_wall - (second.captured_at + wall_offset)) < 1.0
        camera.stamp_lag_s = 0.0  # the rate is measured over the last 2 s of capture stamps
        wait_until(lambda: source.stats().fps > 0, timeout=30, message="a frame rate")
        # never above the camera's rate: the rate is measured on capture stamps at least 1/50 s apart
        assert source.stats().fps <= 50 * 1.05
    finally:
        source.stop()
    last = source.latest()
    before = time.monotonic()
    stats = source.stats()
    after = time.monotonic()
    # the age is that of the newest frame (frozen now that the source stopped), measured when asked
    assert (before - last.captured_at) * 1000 <= stats.age_ms <= (after - last.captured_at) * 1000
    assert stats.errors == 0 and stats.frames >= 2
    assert not camera.is_connected and source.wait_newer(source.latest().seq, 1.0) is None
    source.start()  # a stopped source can be started again
    try:
        assert source.wait_newer(source.latest().seq, 30.0) is not None
    finally:
        source.stop()


class _FakeClock:
    """Stands in for the ``time`` module inside hardware.latest_frame (stats on a clock the test moves)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return 1_700_000_000.0 + self.now


def test_stats_measure_rate_and_age_on_capture_times(monkeypatch) -> None:
    clock = _FakeClock()
    monkeypatch.setattr(latest_frame_module, "time", clock)
    source = ObservedCameraSource("wrist", (24, 32, 3), fps=50)
    for k in range(51):  # one second of frames captured 20 ms apart, each published 5 ms later
        clock.now = 1000.0 + k * 0.02 + 0.005
        source.push(np.full((24, 32, 3), k, np.uint8), captured_at=1000.0 + k * 0.02)
    stats = source.stats()
    assert stats.fps == pytest.approx(50.0) and stats.age_ms == pytest.approx(5.0) and stats.frames == 51
    assert source.latest().captured_wall == pytest.approx(1_700_000_000.0 + 1000.0 + 50 * 0.02)
    clock.now += 0.5  # no new frame: the age grows, the rate over the window is unchanged
    assert source.stats().age_ms == pytest.approx(505.0) and source.stats().fps == pytest.approx(50.0)
    clock.now += 2.5  # every frame is older than the 2 s window: no rate any more
    assert source.stats().fps == 0.0 and source.stats().age_ms == pytest.approx(3005.0)


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
    captured_at = time.monotonic() - 0.2
    source.push(image, captured_at=captured_at)
    frame = source.latest()
    age_ms = source.stats().age_ms
    assert frame.seq == 1 and frame.image is image and frame.captured_at == captured_at
    assert 200 <= age_ms <= (time.monotonic() - captured_at) * 1000
    source.push(image)  # the same array again: the robot had no new frame
    assert source.latest().seq == 1
    source.push(image.copy())
    assert source.latest().seq == 2
    source.push(None)
    assert source.stats().errors == 1
    source.close()
    assert source.wait_newer(2, 1.0) is None
