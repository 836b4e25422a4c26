"""When the encoders fall behind: the episode is cut, drops are counted and announced, nothing mismatches."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from helpers import wait_until
from rec_helpers import FPS, EncoderGate, frame, make_spec, must_return, small_layout
from rollout_console.errors import RecordingError
from rollout_console.recording import verify_dataset


def test_backlog_cuts_the_episode_counts_drops_and_restarts(tmp_path, open_recorder, events, monkeypatch) -> None:
    # the encoders fall behind by exactly as much as the test says: they are gated shut, then let through
    gate = EncoderGate(monkeypatch)
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout, max_encoder_backlog_s=0.5))
    recorder.start_episode("long task")
    fed = 0
    backlog_seen = 0.0

    def feed(count: int) -> None:
        nonlocal fed, backlog_seen
        for _ in range(count):
            recorder.add_frame(frame(layout, 0, fed))
            backlog_seen = max(backlog_seen, recorder.status()["live_backlog_s"])
            fed += 1

    def catch_up() -> None:
        gate.open()
        wait_until(lambda: recorder.status()["live_backlog_s"] == 0, timeout=60, message="encoders caught up")

    # never waits for the encoder: with the encoders shut, a blocking add_frame could not return at all
    must_return(lambda: feed(40), what="add_frame with the encoders gated")  # cut at 0.5 s, the rest dropped
    catch_up()
    gate.close()
    must_return(lambda: feed(40), what="add_frame after a restart")  # restarts, then is cut again
    catch_up()
    feed(10)  # restarts; stays below the limit
    final = recorder.save_episode({"outcome": "success"}).result(timeout=120)
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
    assert [s["cut"] for s in saved] == [True, True, False]
    assert len(restarts) == 2
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
    gate = EncoderGate(monkeypatch)  # the save cannot finish while the encoders are shut
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout))
    recorder.start_episode("t")
    for i in range(40):
        recorder.add_frame(frame(layout, 0, i))
    future = recorder.save_episode()
    assert recorder.close(timeout=0.1) is False
    gate.open()  # the encoders finish now, after the close gave up: the save must not commit
    with pytest.raises(RecordingError, match="cancelled|closed before"):
        future.result(timeout=60)
    def reopen():  # noqa: ANN202  the dataset is locked until the old recorder's threads are gone
        try:
            return open_recorder(make_spec(root, layout=layout), resume=True)
        except RecordingError as exc:
            assert "another recorder" in str(exc)
            return None

    reopened = wait_until(reopen, timeout=60, interval=0.1, message="the old recorder's lock released")
    assert reopened.episodes() == []
    assert verify_dataset(root).ok
