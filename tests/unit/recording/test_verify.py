"""verify_dataset finds each kind of damage (and passes a clean dataset)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rec_helpers import FPS, HEIGHT, WIDTH, make_spec, record, small_layout
from rollout_console.recording import verify_dataset
from rollout_console.recording.video import VideoFileEncoder, VideoSettings


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify") / "ds"
    layout = small_layout()
    from rollout_console.recording import EpisodeRecorder

    recorder = EpisodeRecorder.create(make_spec(root, layout=layout))
    record(recorder, layout, [8, 5])
    recorder.close()
    return root


@pytest.fixture
def damaged(clean, tmp_path):
    copy = tmp_path / "ds"
    shutil.copytree(clean, copy)
    return copy


def test_a_clean_dataset_passes(clean) -> None:
    report = verify_dataset(clean)
    assert report.ok, report.summary()
    assert (report.episodes, report.frames, report.videos_checked, report.decoded_frames) == (2, 13, 4, 26)
    assert report.as_dict()["ok"] is True


def test_a_video_with_fewer_frames_than_rows(damaged) -> None:
    path = damaged / "videos/observation.images.front/chunk-000/file-001.mp4"
    encoder = VideoFileEncoder(path, WIDTH, HEIGHT, FPS, VideoSettings(threads=1))
    for i in range(4):
        encoder.encode(np.full((HEIGHT, WIDTH, 3), 20 * i, np.uint8))
    encoder.close()
    report = verify_dataset(damaged)
    assert any("episode 1: observation.images.front decodes to 4 frames, the parquet has 5 rows" in e
               for e in report.errors), report.errors


def test_an_unreferenced_data_file(damaged) -> None:
    shutil.copy(damaged / "data/chunk-000/file-000.parquet", damaged / "data/chunk-000/file-007.parquet")
    report = verify_dataset(damaged)
    assert any("file-007.parquet: not referenced" in e for e in report.errors), report.errors


def test_a_wrong_timestamp_column(damaged) -> None:
    path = damaged / "data/chunk-000/file-000.parquet"
    table = pq.read_table(path)
    stamps = table.column("timestamp").to_numpy().copy()
    stamps[3] += 0.01
    table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp", pa.array(stamps, pa.float32()))
    pq.write_table(table, path)
    report = verify_dataset(damaged)
    assert "episode 0: timestamp is not frame_index / fps" in report.errors


def test_totals_and_stats_that_disagree_with_the_episodes(damaged) -> None:
    info = json.loads((damaged / "meta/info.json").read_text())
    info["total_frames"] = 99
    (damaged / "meta/info.json").write_text(json.dumps(info))
    stats = json.loads((damaged / "meta/stats.json").read_text())
    stats["action"]["count"] = [5]
    (damaged / "meta/stats.json").write_text(json.dumps(stats))
    report = verify_dataset(damaged)
    assert "meta/info.json: total_frames 99 but 13 frames" in report.errors
    assert any("meta/stats.json: action count [5] but episodes sum to 13" in e for e in report.errors)


def test_missing_files_and_a_torn_parquet(damaged) -> None:
    (damaged / "videos/observation.images.top/chunk-000/file-000.mp4").unlink()
    data = damaged / "data/chunk-000/file-001.parquet"
    data.write_bytes(data.read_bytes()[:-100])  # no footer: what an unfinished writer leaves
    report = verify_dataset(damaged)
    assert "videos/observation.images.top/chunk-000/file-000.mp4: missing" in report.errors
    assert any(e.startswith("data/chunk-000/file-001.parquet: unreadable") for e in report.errors)


def test_episode_offsets_and_tasks(damaged) -> None:
    path = damaged / "meta/episodes/chunk-000/file-000.parquet"
    table = pq.read_table(path)
    column = table.schema.get_field_index("dataset_from_index")
    table = table.set_column(column, "dataset_from_index", pa.array([0, 9], pa.int64()))
    pq.write_table(table, path)
    (damaged / "meta/tasks.parquet").unlink()
    report = verify_dataset(damaged)
    assert any("episode 1: dataset_from/to_index 9..13, expected 8..13" in e for e in report.errors)
    assert "meta/tasks.parquet: missing" in report.errors


def test_unreadable_info_is_reported_not_raised(tmp_path) -> None:
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta/info.json").write_text("{")
    report = verify_dataset(tmp_path)
    assert not report.ok and report.errors[0].startswith("meta/info.json: unreadable")
