"""The real recorder under the faults the lifecycle models: cuts at any frame, saves during a cut,
encoder errors. Backlog is simulated by raising each camera's count of queued live frames, which is
exactly what the recorder reads, so the tests are deterministic whatever the machine's load."""

from __future__ import annotations

import pytest
from rec_helpers import frame, make_spec, small_layout
from rollout_console.errors import RecordingError
from rollout_console.recording import verify_dataset
from rollout_console.recording.video import VideoFileEncoder


def _behind(recorder, frames: int) -> None:
    for cam in recorder._cams.values():
        cam.submitted_live += frames


def _caught_up(recorder, frames: int) -> None:
    for cam in recorder._cams.values():
        cam.submitted_live -= frames


def test_a_cut_at_frame_zero_then_save_is_a_reason_not_a_crash(tmp_path, open_recorder, events) -> None:
    layout = small_layout()
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout, max_encoder_backlog_s=0.2))
    recorder.start_episode("t")
    _behind(recorder, 1000)
    recorder.add_frame(frame(layout, 0, 0))  # cut before any frame was recorded
    assert recorder.state == "dropping"
    with pytest.raises(RecordingError, match="nothing to save"):
        recorder.save_episode({"outcome": "success"})
    assert recorder.state == "idle"
    _caught_up(recorder, 1000)
    recorder.start_episode("t")
    for i in range(5):
        recorder.add_frame(frame(layout, 1, i))
    info = recorder.save_episode().result(timeout=60)
    assert info.length == 5 and not info.cut
    assert any(kind == "encoder_backlog" and "nothing was saved" in data["message"] for kind, data in events)


def test_a_cut_episode_is_kept_and_a_save_during_the_drop_labels_it(tmp_path, open_recorder, events) -> None:
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout, max_encoder_backlog_s=0.2))
    recorder.start_episode("t")
    recorder.add_frame(frame(layout, 0, 0))  # one frame only: a cut keeps it whatever its length
    _behind(recorder, 1000)
    recorder.add_frame(frame(layout, 0, 1))
    recorder.add_frame(frame(layout, 0, 2))
    info = recorder.save_episode({"outcome": "failure"}).result(timeout=60)
    assert info.cut and info.length == 1
    assert recorder.state == "idle" and recorder.status()["dropped_frames"] == 2
    assert [d["count"] for k, d in events if k == "frames_dropped"] == [2]
    _caught_up(recorder, 1000)
    recorder.close(timeout=60)
    assert verify_dataset(root).ok


def test_recording_restarts_by_itself_once_the_encoders_catch_up(tmp_path, open_recorder, events) -> None:
    layout = small_layout()
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout, max_encoder_backlog_s=0.2))
    recorder.start_episode("t")
    for i in range(3):
        recorder.add_frame(frame(layout, 0, i))
    _behind(recorder, 1000)
    recorder.add_frame(frame(layout, 0, 3))
    _caught_up(recorder, 1000)
    recorder.add_frame(frame(layout, 0, 4))
    assert recorder.state == "recording" and recorder.episode_frames == 1
    assert any(kind == "episode_started" and data["auto"] for kind, data in events)
    info = recorder.save_episode().result(timeout=60)
    assert info.length == 1
    recorder.close(timeout=60)


def test_an_encoder_error_fails_that_save_loudly_and_the_next_episode_records(tmp_path, open_recorder, events,
                                                                              monkeypatch) -> None:
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout))
    real_encode = VideoFileEncoder.encode

    def broken(self, rgb):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(VideoFileEncoder, "encode", broken)
    recorder.start_episode("t")
    for i in range(4):
        recorder.add_frame(frame(layout, 0, i))
    future = recorder.save_episode()
    with pytest.raises(RecordingError, match="No space left"):
        future.result(timeout=60)
    assert "No space left" in recorder.status()["last_error"]
    assert any(kind == "episode_failed" for kind, _ in events)
    monkeypatch.setattr(VideoFileEncoder, "encode", real_encode)
    recorder.start_episode("t")
    for i in range(4):
        recorder.add_frame(frame(layout, 1, i))
    assert recorder.save_episode().result(timeout=60).index == 0
    recorder.close(timeout=60)
    assert verify_dataset(root).ok


def test_closing_while_dropping_keeps_the_cut_and_loses_nothing_else(tmp_path, open_recorder) -> None:
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout, max_encoder_backlog_s=0.2))
    recorder.start_episode("t")
    for i in range(3):
        recorder.add_frame(frame(layout, 0, i))
    _behind(recorder, 1000)
    recorder.add_frame(frame(layout, 0, 3))
    _caught_up(recorder, 1000)
    assert recorder.close(timeout=60) is True
    report = verify_dataset(root)
    assert report.ok and report.episodes == 1
