"""FrameRing: exact byte accounting under both bounds, JPEG compression off the caller, drains."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from helpers import wait_until
from rec_helpers import CALLER_THREAD, must_return
from rollout_console.hardware.sim.kinematics import HOME, JOINT_NAMES
from rollout_console.hardware.sim.render import SceneRenderer
from rollout_console.hardware.sim.world import SimWorld
from rollout_console.recording import CompressedImage, FrameRing
from rollout_console.recording.ring_buffer import frame_nbytes


def small_frame(i: int, size: int = 1000) -> dict:
    return {
        "observation.state": np.full(6, i, np.float32),
        "observation.images.front": np.full((10, size // 30 + 1, 3), i % 256, np.uint8),
        "task": "t" * (i % 5),
        "intervention": bool(i % 2),
    }


def test_frame_nbytes_counts_real_bytes() -> None:
    f = small_frame(3)
    expected = 6 * 4 + f["observation.images.front"].nbytes + 3 + 8
    assert frame_nbytes(f) == expected
    jpeg = CompressedImage(b"\xff" * 123, (10, 10, 3))
    assert frame_nbytes({"a": jpeg, "b": 1.5}) == 123 + 8


def test_eviction_by_length_subtracts_what_it_removes() -> None:
    """LeRobot's ring forgets the bytes of frames its deque drops; this one stays exact."""
    ring = FrameRing(max_seconds=1.0, fps=10, max_bytes=1 << 30)
    sizes = []
    for i in range(35):
        f = small_frame(i, size=300 + 40 * i)
        sizes.append(frame_nbytes(f))
        ring.append(f)
        assert len(ring) == min(i + 1, 10)
        assert ring.bytes_used == sum(sizes[-10:]) == ring.accounted_bytes()
    assert ring.evicted_frames == 25
    assert ring.seconds == pytest.approx(1.0)
    assert ring.fill == pytest.approx(1.0)


def test_eviction_by_bytes_keeps_under_the_cap_exactly() -> None:
    rng = np.random.default_rng(1)
    cap = 50_000
    ring = FrameRing(max_seconds=100.0, fps=30, max_bytes=cap)
    for i in range(500):
        ring.append(small_frame(i, size=int(rng.integers(100, 12_000))))
        assert 0 < ring.bytes_used <= cap
        assert ring.bytes_used == ring.accounted_bytes()
    assert len(ring) < 500 and ring.evicted_frames == 500 - len(ring)
    assert 0 < ring.fill <= 1.0
    frames = ring.drain()
    assert [int(f["observation.state"][0]) for f in frames] == list(range(500 - len(frames), 500))
    assert (len(ring), ring.bytes_used, ring.fill) == (0, 0, 0.0)


def test_clear_and_drain_of_an_empty_ring() -> None:
    ring = FrameRing(max_seconds=1.0, fps=30, max_bytes=10_000)
    assert ring.drain() == []
    ring.append(small_frame(1))
    ring.clear()
    assert (len(ring), ring.bytes_used) == (0, 0)
    with pytest.raises(ValueError):
        FrameRing(max_seconds=0, fps=30, max_bytes=1)


def sim_frames(n: int) -> list[dict]:
    world = SimWorld(seed=3, start_time=0.0)
    renderer = SceneRenderer("front", 640, 480)
    home = np.array([HOME[k] for k in JOINT_NAMES])
    out = []
    for i in range(n):
        t = (i + 1) / 30
        world.set_goal(home + np.array([40 * np.sin(t), 20 * np.sin(t), 30 * np.cos(t), 10, 0, 20]), t)
        world.advance(t)
        out.append({"observation.state": np.zeros(6, np.float32), "action": np.zeros(6, np.float32),
                    "observation.images.front": renderer.render(world.snapshot(t))})
    return out


def test_jpeg_compression_holds_at_least_five_times_more_seconds_per_megabyte() -> None:
    frames = sim_frames(120)
    cap = 12 * 1024 * 1024
    raw = FrameRing(max_seconds=600, fps=30, max_bytes=cap)
    for f in frames:
        raw.append(f)
    compressed = FrameRing(max_seconds=600, fps=30, max_bytes=cap, jpeg_quality=90)
    try:
        for n, f in enumerate(frames, start=1):
            compressed.append(f)
            wait_until(lambda n=n: compressed.compressed_frames >= n, timeout=30, interval=0.001,
                       message=f"frame {n} compressed")
            assert compressed.bytes_used == compressed.accounted_bytes()
        assert compressed.compressed_frames == 120
        ratio = compressed.seconds / raw.seconds
        assert len(compressed) == 120 and compressed.evicted_frames == 0
        assert ratio >= 5, f"only {ratio:.1f}x more seconds in the same memory"
        per_frame = compressed.bytes_used / len(compressed)
        assert cap / per_frame / (cap / frame_nbytes(frames[0])) >= 5
        # the caller never paid for compression, and images come back close to the originals
        drained = compressed.drain()
        image = drained[-1]["observation.images.front"]
        assert isinstance(image, CompressedImage) and image.shape == (480, 640, 3)
        decoded = image.decode()
        error = np.abs(decoded.astype(np.int16) - frames[-1]["observation.images.front"].astype(np.int16)).mean()
        assert error < 3
    finally:
        compressed.close()


class _JpegGate:
    """Holds every JPEG encode until opened, and records the threads that tried to encode."""

    def __init__(self, monkeypatch) -> None:  # noqa: ANN001
        self.opened = threading.Event()
        self.threads: set[str] = set()
        real_encode = CompressedImage.encode.__func__

        def encode(cls, image, quality=90):  # noqa: ANN001, ANN202
            self.threads.add(threading.current_thread().name)
            self.opened.wait(120)
            return real_encode(cls, image, quality)

        monkeypatch.setattr(CompressedImage, "encode", classmethod(encode))


def test_append_does_not_compress_on_the_caller(monkeypatch) -> None:
    frames = sim_frames(30)
    gate = _JpegGate(monkeypatch)  # compression cannot finish: an append that compressed could not return
    ring = FrameRing(max_seconds=10, fps=30, max_bytes=1 << 30, jpeg_quality=90)
    try:
        must_return(lambda: [ring.append(f) for f in frames], what="append with the compressor gated")
        assert len(ring) == 30 and ring.compressed_frames == 0
        assert CALLER_THREAD not in gate.threads
        gate.opened.set()
        wait_until(lambda: ring.compressed_frames == 30, timeout=30, message="the compressor caught up")
        assert CALLER_THREAD not in gate.threads and ring.bytes_used == ring.accounted_bytes()
    finally:
        gate.opened.set()
        ring.close()


def test_drained_frames_are_never_mutated_afterwards(monkeypatch) -> None:
    frames = sim_frames(20)
    gate = _JpegGate(monkeypatch)  # the compressor is stuck inside an encode while the ring is drained
    ring = FrameRing(max_seconds=10, fps=30, max_bytes=1 << 30, jpeg_quality=90)
    try:
        for f in frames:
            ring.append(f)
        wait_until(lambda: gate.threads, timeout=30, message="the compressor working on the first frame")
        drained = ring.drain()
        snapshot = [type(f["observation.images.front"]) for f in drained]
        assert ring.bytes_used == 0 and ring.accounted_bytes() == 0
        gate.opened.set()
        ring.append(frames[0])  # queued behind the drained ones: once it is compressed, they were all passed
        wait_until(lambda: ring.compressed_frames >= 1, timeout=30, message="the compressor caught up")
        assert [type(f["observation.images.front"]) for f in drained] == snapshot
        assert isinstance(ring.drain()[0]["observation.images.front"], CompressedImage)
    finally:
        gate.opened.set()
        ring.close()


def test_concurrent_append_and_drain_keep_the_accounting_exact() -> None:
    ring = FrameRing(max_seconds=2, fps=30, max_bytes=200_000, jpeg_quality=80)
    stop = threading.Event()
    drained: list[int] = []
    seen_bad: list[str] = []

    def drainer() -> None:
        while not stop.is_set():
            drained.extend(int(f["observation.state"][0]) for f in ring.drain())
            time.sleep(0.002)

    def checker() -> None:
        while not stop.is_set():
            with ring._lock:
                exact = sum(frame_nbytes(e.frame) for e in ring._entries)
                if exact != ring._bytes:
                    seen_bad.append(f"{exact} != {ring._bytes}")
            time.sleep(0.001)

    threads = [threading.Thread(target=drainer), threading.Thread(target=checker)]
    for t in threads:
        t.start()
    try:
        for i in range(600):
            ring.append({"observation.state": np.full(6, i, np.float32),
                         "observation.images.front": np.full((40, 60, 3), i % 255, np.uint8)})
    finally:
        stop.set()
        for t in threads:
            t.join()
        ring.close()
    drained.extend(int(f["observation.state"][0]) for f in ring.drain())
    assert not seen_bad
    assert drained == sorted(drained) and len(set(drained)) == len(drained)
    assert len(drained) + ring.evicted_frames == 600
