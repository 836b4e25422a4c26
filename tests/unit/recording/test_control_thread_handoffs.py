"""What the control thread pays at a highlight ``mark`` and a ``save``: O(1) hand-offs, no copies.

Checked by behaviour (what is handed over, which thread does the work), never by timing: a ring's
drain must not even walk its frames, the recorder must pass the drained frames to its workers as they
are, and a save must stack and write its columns on the saver thread, not on the caller's.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest
from rec_helpers import CALLER_THREAD, EncoderGate, frame, make_spec, must_return, small_layout
from rollout_console.recording import DrainedFrames, FrameRing
from rollout_console.recording import recorder as recorder_module
from rollout_console.recording.camera_worker import CameraWorker


class _NoWalkDeque(deque):
    """A deque that fails any attempt to walk it: proves a drain takes the ring's frames in one step."""

    walks = 0

    def __iter__(self):  # noqa: ANN204
        type(self).walks += 1
        raise AssertionError("the ring's frames were walked one by one")


def _ring_frames(n: int) -> list[dict]:
    return [{"observation.state": np.full(3, i, np.float32), "action": np.full(3, i, np.float32),
             "observation.images.front": np.full((8, 8, 3), i, np.uint8)} for i in range(n)]


def test_drain_takes_every_frame_without_walking_or_copying_them() -> None:
    frames = _ring_frames(40)
    ring = FrameRing(max_seconds=10, fps=30, max_bytes=1 << 30)
    for f in frames:
        ring.append(f)
    ring._entries = _NoWalkDeque(ring._entries)  # the drain may take the deque, not iterate it
    drained = ring.drain()
    assert _NoWalkDeque.walks == 0
    assert isinstance(drained, DrainedFrames) and len(drained) == 40
    ring.append(frames[0])  # the ring goes on with a fresh deque; the drained view does not change
    assert len(ring) == 1 and len(drained) == 40
    drained._entries = deque(deque.__iter__(drained._entries))  # (read it back normally from here on)
    taken = list(drained)
    # the very image arrays that were appended: nothing was copied
    assert all(a["observation.images.front"] is b["observation.images.front"] for a, b in zip(taken, frames, strict=True))
    assert [int(f["observation.state"][0]) for f in taken] == list(range(40))
    assert drained == taken and drained[0] is taken[0] and drained[-1] is taken[-1] and drained[1:3] == taken[1:3]
    assert ring.drain() == [frames[0]] and FrameRing(1, 30, 1000).drain() == []


def test_mark_hands_the_drained_ring_to_every_camera_worker_as_it_is(tmp_path, open_recorder, monkeypatch) -> None:
    """start_episode(prefix) queues the drained sequence itself (one put per camera): no list, no copy."""
    layout = small_layout()
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout))
    handed: list[tuple[str, object]] = []
    real_bulk = CameraWorker.bulk

    def spy_bulk(worker: CameraWorker, frames):  # noqa: ANN001, ANN202
        handed.append((worker.key, frames))
        return real_bulk(worker, frames)

    monkeypatch.setattr(CameraWorker, "bulk", spy_bulk)
    ring = FrameRing(max_seconds=10, fps=30, max_bytes=1 << 30)
    for i in range(25):
        ring.append(frame(layout, 0, i))
    drained = ring.drain()
    recorder.start_episode("pick", drained)
    assert sorted(key for key, _ in handed) == sorted(f"observation.images.{c}" for c in layout.camera_names)
    assert all(frames is drained for _, frames in handed)
    for i in range(25, 30):
        recorder.add_frame(frame(layout, 0, i))
    info = recorder.save_episode().result(timeout=60)
    assert info.length == 30  # the prefix and the live frames, in order (the writer tests check the values)


def test_save_stacks_and_writes_on_the_saver_thread_even_while_the_encoders_are_stuck(
        tmp_path, open_recorder, monkeypatch) -> None:
    """A save returns at once (a Future): stacking the rows, the parquet and the metadata happen elsewhere."""
    layout = small_layout()
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout))
    threads: list[str] = []
    real_stack = recorder_module.stack_columns

    def spy_stack(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        import threading

        threads.append(threading.current_thread().name)
        return real_stack(*args, **kwargs)

    monkeypatch.setattr(recorder_module, "stack_columns", spy_stack)
    gate = EncoderGate(monkeypatch)  # no frame can be encoded: a save that waited for them could not return

    def record_and_save():  # noqa: ANN202
        recorder.start_episode("pick")
        for i in range(12):
            recorder.add_frame(frame(layout, 0, i))
        return recorder.save_episode()

    future = must_return(record_and_save, what="start, 12 frames and save with the encoders stuck")
    assert not future.done() and threads == []
    gate.open()
    assert future.result(timeout=60).length == 12
    assert threads and CALLER_THREAD not in threads


def test_finished_saves_do_not_pile_up_in_the_recorder(tmp_path, open_recorder) -> None:
    """Each save looks only at the oldest pending jobs (amortised O(1)), and keeps none that finished."""
    layout = small_layout(cameras=("front",))
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout))
    futures = []
    for episode in range(4):
        recorder.start_episode("pick")
        for i in range(3):
            recorder.add_frame(frame(layout, episode, i))
        futures.append(recorder.save_episode())
        futures[-1].result(timeout=60)
    assert len(recorder._jobs) == 1 and recorder._jobs[0].future is futures[-1]


@pytest.mark.parametrize("prefix", [None, ()])
def test_start_without_a_prefix(tmp_path, open_recorder, prefix) -> None:  # noqa: ANN001
    layout = small_layout(cameras=("front",))
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout))
    recorder.start_episode("pick", prefix)
    recorder.add_frame(frame(layout, 0, 0))
    assert recorder.save_episode().result(timeout=60).length == 1


def test_the_saver_keeps_normal_priority_while_the_encoders_are_lowered(tmp_path, open_recorder) -> None:
    """A lowered thread that holds the GIL is preempted by the encoders and the control thread waits behind
    it; the saver's work is short bursts of Python, so it runs at the process's own priority."""
    import dataclasses
    import os

    from helpers import wait_until

    normal = os.getpriority(os.PRIO_PROCESS, 0)  # this thread's (the test may itself run niced)
    if normal >= 19:
        pytest.skip("running at the lowest priority already: nothing can be lowered")
    layout = small_layout(cameras=("front",))
    spec = make_spec(tmp_path / "ds", layout=layout)
    assert spec.video is not None
    lowered = min(19, normal + 5)
    recorder = open_recorder(dataclasses.replace(spec, video=dataclasses.replace(spec.video, nice=lowered)))
    worker = next(iter(recorder.camera_workers.values()))
    wait_until(lambda: os.getpriority(os.PRIO_PROCESS, worker.thread.native_id) == lowered, timeout=30,
               message="the camera worker lowered itself")
    assert os.getpriority(os.PRIO_PROCESS, recorder._saver.native_id) == normal
