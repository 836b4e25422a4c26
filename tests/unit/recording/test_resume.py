"""Resume: appending to an existing dataset, and every kind of mismatch refused with a reason."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from rec_helpers import make_spec, read_data, record, small_layout
from rollout_console.errors import RecordingError
from rollout_console.features import FeatureLayout
from rollout_console.recording import verify_dataset


@pytest.fixture
def existing(tmp_path, open_recorder):
    """A dataset with two episodes (front + top cameras, env state, outcome column)."""
    root = tmp_path / "ds"
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout))
    record(recorder, layout, [6, 4], extra={"outcome": "success"})
    recorder.close()
    return root, layout


def test_resume_appends_after_the_existing_episodes(existing, open_recorder, events) -> None:
    root, layout = existing
    recorder = open_recorder(make_spec(root, layout=layout), resume=True)
    assert [e.index for e in recorder.episodes()] == [0, 1]
    assert recorder.status()["total_frames"] == 10
    infos = record(recorder, layout, [5], task="a new task", extra={"outcome": "failure"}, first_episode=2)
    assert infos[0].index == 2
    recorder.close()
    assert not [kind for kind, _ in events if kind == "recovered_on_open"]  # the dataset was clean
    info = json.loads((root / "meta/info.json").read_text())
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (3, 15, 2)
    episodes = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["dataset_from_index"] for e in episodes] == [0, 6, 10]
    assert [e["data/file_index"] for e in episodes] == [0, 1, 2]
    assert [e["outcome"] for e in episodes] == ["success", "success", "failure"]
    data = read_data(root)
    assert data["index"] == list(range(15))
    assert data["task_index"] == [0] * 10 + [1] * 5
    assert json.loads((root / "meta/stats.json").read_text())["action"]["count"] == [15]
    report = verify_dataset(root)
    assert report.ok, report.summary()


def _layout_with(**changes) -> FeatureLayout:
    base = small_layout()
    fields = {"state_names": base.state_names, "env_names": base.env_names, "camera_shapes": dict(base.camera_shapes),
              "action_names": base.action_names}
    fields.update(changes)
    return FeatureLayout(**fields)


@pytest.mark.parametrize(
    "spec_changes,message",
    [
        ({"fps": 15}, "fps is 30 in the dataset but 15 now"),
        ({"robot_type": "koch"}, "robot_type is 'sim_so101' in the dataset but 'koch' now"),
        ({"intervention": True}, "the dataset has no 'intervention' column but this strategy records one"),
        ({"layout": _layout_with(state_names=("a.pos", "b.pos", "c.pos"))}, "observation.state: names"),
        ({"layout": _layout_with(state_names=("a.pos", "b.pos"))}, r"observation.state: shape \[3\] in the dataset, \[2\] now"),
        ({"layout": _layout_with(camera_shapes={"front": (48, 64, 3)})},
         "'observation.images.top' is in the dataset but not recorded now"),
        ({"layout": _layout_with(camera_shapes={"front": (48, 64, 3), "top": (48, 64, 3), "side": (48, 64, 3)})},
         "'observation.images.side' is recorded now but missing from the dataset"),
        ({"layout": _layout_with(camera_shapes={"front": (96, 128, 3), "top": (48, 64, 3)})},
         r"observation.images.front: shape \[48, 64, 3\] in the dataset, \[96, 128, 3\] now"),
        ({"video": False}, "observation.images.front: dtype video in the dataset, image now"),
        ({"layout": _layout_with(env_names=())}, "'observation.environment_state' is in the dataset"),
        ({"vcodec": "h264"}, "videos are av1 in the dataset but --dataset.vcodec=h264 now"),
    ],
)
def test_resume_refuses_a_mismatch_and_names_it(existing, open_recorder, spec_changes, message) -> None:
    root, _ = existing
    before = {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and "meta" in p.parts}
    with pytest.raises(RecordingError, match=message) as caught:
        open_recorder(make_spec(root, **spec_changes), resume=True)
    assert "cannot resume" in str(caught.value)
    after = {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and "meta" in p.parts}
    assert before == after  # a refused resume changes nothing


def test_resume_refuses_a_dagger_dataset_without_intervention(tmp_path, open_recorder) -> None:
    root = tmp_path / "ds"
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout, intervention=True))
    record(recorder, layout, [3], intervention=True)
    recorder.close()
    with pytest.raises(RecordingError, match="has an 'intervention' column but this strategy does not record one"):
        open_recorder(make_spec(root, layout=layout), resume=True)


def test_resume_adds_a_new_episode_column_to_older_episodes(tmp_path, open_recorder, events) -> None:
    root = tmp_path / "ds"
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout, extras={}))
    record(recorder, layout, [4])
    recorder.close()
    recorder = open_recorder(make_spec(root, layout=layout), resume=True)
    record(recorder, layout, [3], extra={"outcome": "success"}, first_episode=1)
    recorder.close()
    recovered = [data for kind, data in events if kind == "recovered_on_open"]
    assert recovered and recovered[0]["migrated_files"] == ["meta/episodes/chunk-000/file-000.parquet"]
    episodes = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["outcome"] for e in episodes] == [None, "success"]
    assert verify_dataset(root).ok


def test_resume_of_a_missing_dataset_says_so(tmp_path, open_recorder) -> None:
    with pytest.raises(RecordingError, match="no meta/info.json"):
        open_recorder(make_spec(tmp_path / "nothing"), resume=True)


def test_resume_of_an_empty_dataset_starts_at_episode_zero(tmp_path, open_recorder) -> None:
    root = tmp_path / "ds"
    layout = small_layout()
    open_recorder(make_spec(root, layout=layout)).close()
    recorder = open_recorder(make_spec(root, layout=layout), resume=True)
    assert record(recorder, layout, [3])[0].index == 0
    assert verify_dataset(root).ok


def test_a_dataset_has_one_recorder_at_a_time(existing, open_recorder) -> None:
    root, layout = existing
    first = open_recorder(make_spec(root, layout=layout), resume=True)
    with pytest.raises(RecordingError, match="being recorded by another recorder"):
        open_recorder(make_spec(root, layout=layout), resume=True)
    first.close()
    second = open_recorder(make_spec(root, layout=layout), resume=True)  # free again once closed
    assert len(second.episodes()) == 2


def test_episodes_metadata_rolls_to_new_files_and_resumes_there(tmp_path, open_recorder, monkeypatch) -> None:
    from rollout_console.recording import metadata

    monkeypatch.setattr(metadata, "EPISODES_PER_META_FILE", 2)
    root = tmp_path / "ds"
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout))
    record(recorder, layout, [3, 4, 5])
    snapshot = recorder.snapshot()
    recorder.close()
    files = sorted(p.name for p in (root / "meta/episodes/chunk-000").iterdir())
    assert files == ["file-000.parquet", "file-001.parquet"]
    assert "meta/episodes/chunk-000/file-000.parquet" in snapshot.files  # full, never rewritten again
    assert "meta/episodes/chunk-000/file-001.parquet" in snapshot.meta  # current: bytes as committed
    recorder = open_recorder(make_spec(root, layout=layout), resume=True)
    record(recorder, layout, [2, 6], first_episode=3)
    recorder.close()
    rows = [pq.read_table(root / f"meta/episodes/chunk-000/file-00{i}.parquet").to_pylist() for i in range(3)]
    assert [[r["episode_index"] for r in f] for f in rows] == [[0, 1], [2, 3], [4]]
    assert [r["meta/episodes/file_index"] for f in rows for r in f] == [0, 0, 1, 1, 2]
    report = verify_dataset(root)
    assert report.ok and report.episodes == 5, report.summary()
