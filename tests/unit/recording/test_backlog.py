"""When the encoders fall behind: the episode is cut, drops are counted and announced, nothing mismatches."""

from __future__ import annotations

import time

import pyarrow.parquet as pq
import pytest
from rec_helpers import FPS, frame, make_spec, small_layout
from rollout_console.errors import RecordingError
from rollout_console.recording import verify_dataset
from rollout_console.recording.video import VideoFileEncoder


def test_backlog_cuts_the_episode_counts_drops_and_restarts(tmp_path, open_recorder, events, monkeypatch) -> None:
    real_encode = VideoFileEncoder.encode

    def slow_encode(self, rgb):  # an encoder that manages ~12 frames/s: slower than the 30 Hz input
        time.sleep(1 / 12)
        return real_encode(self, rgb)

    monkeypatch.setattr(VideoFileEncoder, "encode", slow_encode)
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout, max_encoder_backlog_s=0.5))
    recorder.start_episode("long task")
    fed = 0
    period = 1 / FPS
    next_tick = time.perf_counter()
    backlog_seen = 0.0
    call_times = []
    while fed < 150:  # 5 s of input at 30 Hz
        next_tick += period
        time.sleep(max(0.0, next_tick - time.perf_counter()))
        started = time.perf_counter()
        recorder.add_frame(frame(layout, 0, fed))
        call_times.append(time.perf_counter() - started)
        backlog_seen = max(backlog_seen, recorder.status()["live_backlog_s"])
        fed += 1
    # never waits for the encoder (a blocking design would take >= 1/12 s per call once behind);
    # the bound on the worst call is loose because the test machine is shared
    assert sorted(call_times)[len(call_times) // 2] < 0.005 and max(call_times) < 0.25
    final = recorder.save_episode({"outcome": "success"}).result(timeout=120)
    monkeypatch.setattr(VideoFileEncoder, "encode", real_encode)
    recorder.close(timeout=120)

    kinds = [kind for kind, _ in events]
    assert "encoder_backlog" in kinds and "frames_dropped" in kinds
    cuts = [data for kind, data in events if kind == "encoder_backlog"]
    assert all(c["backlog_s"] >= 0.5 and "cut at frame" in c["message"] for c in cuts)
    assert backlog_seen <= 0.5 + 2 / FPS  # the limit holds
    restarts = [data for kind, data in events if kind == "episode_started"]
    assert restarts and all(r["auto"] and r["task"] == "long task" for r in restarts)
    saved = [data for kind, data in events if kind == "episode_saved"]
    dropped = recorder.status()["dropped_frames"]
    assert dropped == sum(d["count"] for kind, d in events if kind == "frames_dropped")
    assert dropped > 0
    # every frame fed is either in exactly one saved episode or counted as dropped
    assert sum(s["length"] for s in saved) + dropped == fed
    assert [s["cut"] for s in saved][:-1] == [True] * (len(saved) - 1)
    assert final.index == len(saved) - 1
    # each saved piece is consistent: decoded frames == rows, contiguous indices (verify decodes all)
    report = verify_dataset(root)
    assert report.ok, report.summary()
    assert report.episodes == len(saved) >= 2
    states = [row[1] for row in pq.read_table(root / "data/chunk-000/file-000.parquet").column(
        "observation.state").to_pylist()]
    assert states == list(range(len(states)))  # the first piece is frames 0..k without a gap


def test_a_ring_prefix_does_not_count_against_the_backlog_limit(tmp_path, open_recorder, events) -> None:
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout, max_encoder_backlog_s=0.5))
    prefix = [frame(layout, 0, i) for i in range(60)]  # 2 s of history, 4x the live limit
    recorder.start_episode("highlight", prefix_frames=prefix)
    assert recorder.status()["backlog_s"] >= 0.0
    for i in range(60, 66):
        recorder.add_frame(frame(layout, 0, i))
    info = recorder.save_episode().result(timeout=60)
    assert info.length == 66 and info.cut is False
    assert "encoder_backlog" not in [kind for kind, _ in events]
    assert recorder.status()["dropped_frames"] == 0
    assert verify_dataset(root).ok


def test_a_close_that_times_out_never_commits_behind_the_callers_back(tmp_path, open_recorder, monkeypatch) -> None:
    real_encode = VideoFileEncoder.encode

    def slow_encode(self, rgb):
        time.sleep(0.05)
        return real_encode(self, rgb)

    monkeypatch.setattr(VideoFileEncoder, "encode", slow_encode)
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout))
    recorder.start_episode("t")
    for i in range(40):
        recorder.add_frame(frame(layout, 0, i))
    future = recorder.save_episode()
    assert recorder.close(timeout=0.1) is False
    with pytest.raises(RecordingError, match="cancelled|closed before"):
        future.result(timeout=60)
    deadline = time.monotonic() + 30
    while True:  # the dataset is locked until the old recorder's threads are gone
        try:
            reopened = open_recorder(make_spec(root, layout=layout), resume=True)
            break
        except RecordingError as exc:
            assert "another recorder" in str(exc)
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert reopened.episodes() == []
    assert verify_dataset(root).ok
