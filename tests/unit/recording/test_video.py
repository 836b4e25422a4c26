"""Video encoder: exact frame counts and times, odd sizes, and encoder threads that cannot starve the loop."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from rollout_console.recording.video import (
    VideoFileEncoder,
    VideoSettings,
    count_video_frames,
    decode_video,
    lower_thread_priority,
    probe_video,
)


def _realtime_threads() -> list[int]:
    out = []
    for name in os.listdir("/proc/self/task"):
        try:
            if os.sched_getscheduler(int(name)) in (os.SCHED_FIFO, os.SCHED_RR):
                out.append(int(name))
        except OSError:
            continue
    return out


@pytest.mark.parametrize("vcodec", ["libsvtav1", "h264"])
def test_encoder_threads_are_never_realtime_and_run_niced(tmp_path, vcodec) -> None:
    """SVT-AV1 makes its threads SCHED_FIFO 99 when it may (root); that froze the control loop ~1 s."""
    result: dict[str, object] = {}

    def worker() -> None:
        lower_thread_priority(10)
        encoder = VideoFileEncoder(tmp_path / "v.mp4", 64, 48, 30, VideoSettings(vcodec=vcodec))
        result["realtime_while_open"] = _realtime_threads()
        result["nice"] = sorted({os.getpriority(os.PRIO_PROCESS, int(t)) for t in os.listdir("/proc/self/task")
                                 if int(t) not in baseline})
        for i in range(5):
            encoder.encode(np.full((48, 64, 3), 40 * i, np.uint8))
        result["frames"] = encoder.close()

    baseline = {int(t) for t in os.listdir("/proc/self/task")}
    caller_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())  # 0, or what `nice` gave pytest
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(60)
    assert result["realtime_while_open"] == []
    assert result["nice"] and min(result["nice"]) >= max(10, caller_nice)  # the codec's threads inherited it
    assert result["frames"] == 5
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == caller_nice  # the caller's thread untouched


@pytest.mark.parametrize("size", [(48, 64), (50, 66), (31, 45)])
def test_every_frame_is_in_the_file_at_its_time(tmp_path, size) -> None:
    height, width = size
    path = tmp_path / "v.mp4"
    encoder = VideoFileEncoder(path, width, height, 30, VideoSettings(vcodec="libsvtav1", gop=2))
    for i in range(17):
        encoder.encode(np.full((height, width, 3), 10 * i, np.uint8))
    assert encoder.close() == 17
    info, indexed = probe_video(path)
    assert indexed == 17 and (info["video.height"], info["video.width"]) == size
    count, times, decoded_size = count_video_frames(path)
    assert count == 17 and decoded_size == size
    assert times == pytest.approx([i / 30 for i in range(17)], abs=1e-4)
    _, frames = decode_video(path)
    assert [round(float(f.mean()) / 10) for f in frames] == list(range(17))  # each frame in its place


def test_a_wrong_frame_is_refused_and_abort_removes_the_file(tmp_path) -> None:
    path = tmp_path / "v.mp4"
    encoder = VideoFileEncoder(path, 64, 48, 30, VideoSettings(vcodec="h264"))
    with pytest.raises(ValueError, match="expected"):
        encoder.encode(np.zeros((48, 64, 4), np.uint8))
    encoder.abort()
    assert not path.exists()
