"""Episodes written with the real encoders and read back field by field."""

from __future__ import annotations

import json
import threading

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import wait_until
from rec_helpers import (CALLER_THREAD, FPS, HEIGHT, WIDTH, EncoderGate, frame, image, make_spec, must_return,
                         read_data, record, small_layout)
from rollout_console.errors import RecordingError
from rollout_console.recording import FrameRing, verify_dataset
from rollout_console.recording.camera_worker import CameraWorker
from rollout_console.recording.layout import SPARE_DIR, STATE_DIR
from rollout_console.recording.ring_buffer import CompressedImage
from rollout_console.recording.video import decode_video

LENGTHS = [12, 7, 15]
TASKS = ["pick the cube", "place the cube", "pick the cube"]
OUTCOMES = ["success", None, "failure"]


def staged_episodes(root) -> list[str]:
    """Episode directories left in the staging area (the spare encoders' directory aside)."""
    return [p.name for p in (root / STATE_DIR / "staging").iterdir() if p.name != SPARE_DIR]


def record_three(recorder, layout) -> list:
    infos = []
    for n, (length, task, outcome) in enumerate(zip(LENGTHS, TASKS, OUTCOMES, strict=True)):
        recorder.start_episode(task)
        for i in range(length):
            recorder.add_frame(frame(layout, n, i))
        infos.append(recorder.save_episode({"outcome": outcome}).result(timeout=60))
    return infos


@pytest.mark.parametrize("vcodec,codec_name", [("libsvtav1", "av1"), ("h264", "h264")])
def test_episodes_round_trip_field_by_field(tmp_path, open_recorder, events, vcodec, codec_name) -> None:
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout, vcodec=vcodec))
    infos = record_three(recorder, layout)
    assert [i.index for i in infos] == [0, 1, 2]
    assert [i.length for i in infos] == LENGTHS
    assert [i.extra["outcome"] for i in infos] == OUTCOMES
    assert infos[0].duration_s == pytest.approx(12 / FPS)
    assert [kind for kind, _ in events] == ["episode_saved"] * 3
    total = sum(LENGTHS)

    # meta/info.json
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 30 and isinstance(info["fps"], int)
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (3, total, 2)
    assert info["splits"] == {"train": "0:3"} and info["chunks_size"] == 1000 and info["robot_type"] == "sim_so101"
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    assert info["video_path"] == "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    feats = info["features"]
    assert list(feats) == ["observation.state", "observation.environment_state", "observation.images.front",
                           "observation.images.top", "action", "timestamp", "frame_index", "episode_index",
                           "index", "task_index"]
    assert feats["observation.state"] == {"dtype": "float32", "shape": [3], "names": list(layout.state_names)}
    assert feats["timestamp"] == {"dtype": "float32", "shape": [1], "names": None}
    cam = feats["observation.images.front"]
    assert cam["dtype"] == "video" and cam["shape"] == [HEIGHT, WIDTH, 3]
    assert cam["names"] == ["height", "width", "channels"]
    # LeRobot 0.6's fields, order and types (its get_video_info with a VideoEncoderConfig)
    preset = 12 if vcodec == "libsvtav1" else "veryfast"
    assert list(cam["info"].items()) == [
        ("video.height", HEIGHT), ("video.width", WIDTH), ("video.codec", codec_name), ("video.pix_fmt", "yuv420p"),
        ("video.fps", 30), ("video.channels", 3), ("has_audio", False), ("video.g", 2), ("video.crf", 30),
        ("video.preset", preset), ("video.fast_decode", 0), ("video.video_backend", "pyav"),
        ("video.extra_options", {}), ("is_depth_map", False)]

    # data parquet: one file per episode, LeRobot's column types, every value
    for n, length in enumerate(LENGTHS):
        table = pq.read_table(root / f"data/chunk-000/file-{n:03d}.parquet")
        assert table.num_rows == length
        schema = table.schema
        assert schema.field("observation.state").type == pa.list_(pa.float32(), 3)
        assert schema.field("observation.environment_state").type == pa.list_(pa.float32(), 2)
        assert schema.field("action").type == pa.list_(pa.float32(), 3)
        assert schema.field("timestamp").type == pa.float32()
        for name in ("frame_index", "episode_index", "index", "task_index"):
            assert schema.field(name).type == pa.int64()
        assert "observation.images.front" not in schema.names
        rows = table.to_pydict()
        start = sum(LENGTHS[:n])
        assert rows["frame_index"] == list(range(length))
        assert rows["episode_index"] == [n] * length
        assert rows["index"] == list(range(start, start + length))
        assert rows["task_index"] == [0 if n != 1 else 1] * length
        assert rows["timestamp"] == [float(np.float32(i / FPS)) for i in range(length)]
        for i in range(length):
            expected = frame(layout, n, i)
            assert rows["observation.state"][i] == pytest.approx(expected["observation.state"].tolist())
            assert rows["action"][i] == pytest.approx(expected["action"].tolist())
            assert rows["observation.environment_state"][i] == pytest.approx(
                expected["observation.environment_state"].tolist())

    # videos: decoded frame count == rows, size, presentation times, content
    for n, length in enumerate(LENGTHS):
        for c, name in enumerate(layout.camera_names):
            times, frames = decode_video(root / f"videos/observation.images.{name}/chunk-000/file-{n:03d}.mp4")
            assert len(frames) == length
            assert all(f.shape == (HEIGHT, WIDTH, 3) for f in frames)
            assert times == pytest.approx([i / FPS for i in range(length)], abs=1e-4)
            for i in (0, length // 2, length - 1):
                want = image(n, i, c).astype(np.int16)
                assert np.abs(frames[i].astype(np.int16) - want).mean() < 6

    # meta/episodes: offsets, files, timestamps, tasks, the outcome column, per-episode stats
    episodes = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["episode_index"] for e in episodes] == [0, 1, 2]
    assert [e["tasks"] for e in episodes] == [[t] for t in TASKS]
    assert [e["length"] for e in episodes] == LENGTHS
    assert [e["dataset_from_index"] for e in episodes] == [0, 12, 19]
    assert [e["dataset_to_index"] for e in episodes] == [12, 19, 34]
    assert [(e["data/chunk_index"], e["data/file_index"]) for e in episodes] == [(0, 0), (0, 1), (0, 2)]
    assert [e["outcome"] for e in episodes] == OUTCOMES
    assert all((e["meta/episodes/chunk_index"], e["meta/episodes/file_index"]) == (0, 0) for e in episodes)
    for e, length in zip(episodes, LENGTHS, strict=True):
        for name in layout.camera_names:
            key = f"videos/observation.images.{name}"
            assert e[f"{key}/from_timestamp"] == 0.0
            assert e[f"{key}/to_timestamp"] == pytest.approx(length / FPS)
        states = np.array([frame(layout, e["episode_index"], i)["observation.state"] for i in range(length)])
        assert e["stats/observation.state/min"] == pytest.approx(states.min(0).tolist())
        assert e["stats/observation.state/max"] == pytest.approx(states.max(0).tolist())
        assert e["stats/observation.state/mean"] == pytest.approx(states.mean(0).tolist())
        assert e["stats/observation.state/std"] == pytest.approx(states.std(0).tolist())
        assert e["stats/observation.state/q50"] == pytest.approx(np.quantile(states, 0.5, axis=0).tolist())
        assert e["stats/observation.state/count"] == [length]
        assert e["stats/frame_index/max"] == [length - 1]
        img_mean = np.array(e["stats/observation.images.front/mean"])
        assert img_mean.shape == (3, 1, 1)
        levels = [image(e["episode_index"], i, 0)[0, -1, 0] for i in range(length)]
        assert 0.0 <= np.array(e["stats/observation.images.front/min"]).min() <= img_mean.min()
        assert np.array(e["stats/observation.images.front/max"]).max() <= 1.0
        assert abs(float(img_mean[0, 0, 0]) - np.mean(levels) / 255) < 0.1
        assert e["stats/observation.images.front/count"] == [length]

    # meta/stats.json aggregates over all frames
    stats = json.loads((root / "meta/stats.json").read_text())
    all_states = np.array([frame(layout, n, i)["observation.state"] for n, L in enumerate(LENGTHS) for i in range(L)])
    assert stats["observation.state"]["count"] == [total]
    assert stats["observation.state"]["mean"] == pytest.approx(all_states.mean(0).tolist())
    assert stats["observation.state"]["std"] == pytest.approx(all_states.std(0).tolist())
    assert stats["observation.state"]["min"] == pytest.approx(all_states.min(0).tolist())
    assert sorted(stats["observation.state"]) == sorted(
        ["min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"])
    assert np.array(stats["observation.images.top"]["mean"]).shape == (3, 1, 1)

    # meta/tasks.parquet is a pandas frame indexed by the task string
    tasks = pq.read_table(root / "meta/tasks.parquet")
    assert tasks.to_pydict() == {"task_index": [0, 1], "task": ["pick the cube", "place the cube"]}
    assert json.loads(tasks.schema.metadata[b"pandas"])["index_columns"] == ["task"]

    # nothing left in the staging area but the pre-opened spare encoders; the independent verifier agrees
    assert staged_episodes(root) == []
    report = verify_dataset(root)
    assert report.ok, report.summary()
    assert report.videos_checked == 6 and report.decoded_frames == 2 * total


def test_intervention_is_a_bool_scalar_column(tmp_path, open_recorder) -> None:
    layout = small_layout(cameras=("front",))
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout, intervention=True))
    record(recorder, layout, [9], intervention=True)
    info = json.loads((root / "meta/info.json").read_text())
    assert info["features"]["intervention"] == {"dtype": "bool", "shape": [1], "names": None}
    table = pq.read_table(root / "data/chunk-000/file-000.parquet")
    assert table.schema.field("intervention").type == pa.bool_()
    assert table.column("intervention").to_pylist() == [i % 4 == 1 for i in range(9)]
    episode = pq.read_table(root / "meta/episodes/chunk-000/file-000.parquet").to_pylist()[0]
    assert episode["stats/intervention/mean"] == pytest.approx([2 / 9])
    assert verify_dataset(root).ok


def test_images_mode_stores_png_inside_the_parquet(tmp_path, open_recorder) -> None:
    layout = small_layout(cameras=("front",))
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout, video=False))
    record(recorder, layout, [6, 4])
    info = json.loads((root / "meta/info.json").read_text())
    assert info["video_path"] is None
    assert info["features"]["observation.images.front"]["dtype"] == "image"
    assert not (root / "videos").exists()
    import cv2

    table = pq.read_table(root / "data/chunk-000/file-001.parquet")
    column = table.column("observation.images.front").to_pylist()
    assert len(column) == 4
    for i, cell in enumerate(column):
        decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(cell["bytes"], np.uint8), cv2.IMREAD_COLOR),
                               cv2.COLOR_BGR2RGB)
        assert np.array_equal(decoded, image(1, i, 0))  # PNG is lossless
    report = verify_dataset(root)
    assert report.ok, report.summary()


def test_discard_drops_the_episode_without_a_trace(tmp_path, open_recorder, events) -> None:
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout))
    recorder.start_episode("doomed")
    for i in range(8):
        recorder.add_frame(frame(layout, 9, i))
    assert recorder.status()["frames"] == 8
    assert recorder.discard_episode() is True
    assert recorder.discard_episode() is False  # nothing left to discard
    assert recorder.status()["state"] == "idle"
    infos = record(recorder, layout, [5], task="kept")
    assert infos[0].index == 0
    wait_until(lambda: not staged_episodes(root), timeout=30, message="staging of the discarded episode removed")
    assert ("episode_discarded", {"frames": 8, "task": "doomed"}) in events
    info = json.loads((root / "meta/info.json").read_text())
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (1, 5, 1)
    assert len(list((root / "videos/observation.images.front/chunk-000").iterdir())) == 1
    assert verify_dataset(root).ok


def test_ring_prefix_becomes_the_head_of_the_episode(tmp_path, open_recorder, monkeypatch) -> None:
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout))
    ring = FrameRing(max_seconds=1.0, fps=FPS, max_bytes=64 << 20, jpeg_quality=95)
    try:
        for i in range(40):  # 40 frames into a 30-frame ring: frames 10..39 stay
            ring.append(frame(layout, 0, i))
        wait_until(lambda: ring.compressed_frames >= 30, timeout=30, message="ring compression")
        prefix = ring.drain()
    finally:
        ring.close()
    assert len(prefix) == 30
    # O(cameras), not O(frames): the prefix goes to each camera worker in one piece, and the caller
    # neither decodes its JPEGs nor waits for an encoder (they are gated shut while it runs)
    handovers: list[tuple[str, int]] = []
    real_bulk, real_frame, real_decode = CameraWorker.bulk, CameraWorker.frame, CompressedImage.decode
    decoders: set[str] = set()

    def bulk(worker, frames):  # noqa: ANN001, ANN202
        handovers.append(("bulk", len(frames)))
        return real_bulk(worker, frames)

    def one_frame(worker, img):  # noqa: ANN001, ANN202
        handovers.append(("frame", 1))
        return real_frame(worker, img)

    def decode(compressed):  # noqa: ANN001, ANN202
        decoders.add(threading.current_thread().name)
        return real_decode(compressed)

    monkeypatch.setattr(CameraWorker, "bulk", bulk)
    monkeypatch.setattr(CameraWorker, "frame", one_frame)
    monkeypatch.setattr(CompressedImage, "decode", decode)
    gate = EncoderGate(monkeypatch)
    index = must_return(lambda: recorder.start_episode("highlight", prefix_frames=prefix),
                        what="start_episode with a 30-frame prefix")
    assert handovers == [("bulk", 30)] * len(layout.camera_shapes)
    assert index == 0 and recorder.status()["frames"] == 30
    gate.open()
    wait_until(lambda: decoders, timeout=30, message="the workers decoding the prefix")
    assert CALLER_THREAD not in decoders and CALLER_THREAD not in gate.threads
    for i in range(40, 45):
        recorder.add_frame(frame(layout, 0, i))
    info = recorder.save_episode({"outcome": "success"}).result(timeout=60)
    assert info.length == 35
    data = read_data(root)
    assert [s[1] for s in data["observation.state"]] == list(range(10, 45))
    _, frames = decode_video(root / "videos/observation.images.top/chunk-000/file-000.mp4")
    assert len(frames) == 35
    for n, i in ((0, 10), (29, 39), (30, 40), (34, 44)):
        assert np.abs(frames[n].astype(np.int16) - image(0, i, 1).astype(np.int16)).mean() < 8
    assert verify_dataset(root).ok


def test_bad_frames_are_rejected_whole(tmp_path, open_recorder) -> None:
    layout = small_layout()
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout))
    with pytest.raises(RecordingError, match="no episode"):
        recorder.add_frame(frame(layout, 0, 0))
    recorder.start_episode("t")
    recorder.add_frame(frame(layout, 0, 0))
    missing = frame(layout, 0, 1)
    del missing["observation.images.top"]
    with pytest.raises(RecordingError, match="observation.images.top"):
        recorder.add_frame(missing)
    wrong = frame(layout, 0, 1)
    wrong["observation.state"] = np.zeros(5, np.float32)
    with pytest.raises(RecordingError, match="do not match"):
        recorder.add_frame(wrong)
    small = frame(layout, 0, 1)
    small["observation.images.front"] = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(RecordingError, match="observation.images.front"):
        recorder.add_frame(small)
    no_state = frame(layout, 0, 1)
    del no_state["observation.state"]
    with pytest.raises(RecordingError, match="observation.state"):
        recorder.add_frame(no_state)
    with pytest.raises(RecordingError, match="unknown episode columns"):
        recorder.save_episode({"verdict": "x"})
    assert recorder.status()["frames"] == 1  # rejected frames left nothing behind
    info = recorder.save_episode().result(timeout=60)
    assert info.length == 1
    with pytest.raises(RecordingError, match="no episode to save"):
        recorder.save_episode()
    assert verify_dataset(tmp_path / "ds").ok


def test_empty_episode_cannot_be_saved(tmp_path, open_recorder) -> None:
    recorder = open_recorder(make_spec(tmp_path / "ds"))
    recorder.start_episode("t")
    with pytest.raises(RecordingError, match="no frames"):
        recorder.save_episode()
    assert recorder.status()["state"] == "idle"


def test_create_refuses_an_existing_dataset(tmp_path, open_recorder) -> None:
    layout = small_layout()
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout))
    record(recorder, layout, [3])
    recorder.close()
    with pytest.raises(RecordingError, match="already exists"):
        open_recorder(make_spec(tmp_path / "ds", layout=layout))


def test_save_returns_at_once_and_the_future_means_durable(tmp_path, open_recorder, monkeypatch) -> None:
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout))
    gate = EncoderGate(monkeypatch)  # no frame can be encoded, so no save can complete, until opened
    recorder.start_episode("t")
    for i in range(60):
        recorder.add_frame(frame(layout, 0, i))

    def save_and_go_on():  # noqa: ANN202
        future = recorder.save_episode({"outcome": "success"})
        recorder.start_episode("next")  # recording continues while the save runs
        recorder.add_frame(frame(layout, 1, 0))
        return future

    # a save that waited for its encoders or its files would never return while the gate is shut
    future = must_return(save_and_go_on, what="save_episode + start_episode + add_frame")
    assert not future.done(), "the save resolved before its videos were encoded"
    assert not (root / "data/chunk-000/file-000.parquet").exists()
    gate.open()
    info = future.result(timeout=60)
    assert info.index == 0 and info.length == 60
    # durable means: files in place, metadata committed (the recorder's view matches the disk)
    assert (root / "data/chunk-000/file-000.parquet").exists()
    assert json.loads((root / "meta/info.json").read_text())["total_episodes"] == 1
    assert [e.index for e in recorder.episodes()] == [0]
    assert recorder.status()["episode_index"] == 1


@pytest.mark.parametrize("fps", [29.97, 12.5])
def test_non_integer_fps_keeps_exact_frame_times(tmp_path, open_recorder, fps) -> None:
    layout = small_layout(cameras=("front",))
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout, fps=fps))
    record(recorder, layout, [25])
    info = json.loads((root / "meta/info.json").read_text())
    assert info["fps"] == fps and info["features"]["observation.images.front"]["info"]["video.fps"] == fps
    times, frames = decode_video(root / "videos/observation.images.front/chunk-000/file-000.mp4")
    assert len(frames) == 25
    assert times == pytest.approx([i / fps for i in range(25)], abs=1e-4)
    stamps = pq.read_table(root / "data/chunk-000/file-000.parquet").column("timestamp").to_pylist()
    assert stamps == [float(np.float32(i / fps)) for i in range(25)]
    assert verify_dataset(root).ok
