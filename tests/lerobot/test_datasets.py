"""Datasets written by the console, read back with LeRobot 0.6.1's own LeRobotDataset (torchcodec).

Every kind the console records: the recorder on its own with both codecs (frame-exact alignment), and
real sim sessions for sentry, highlight (with a JPEG ring buffer) and dagger (intervention column).
Values and timestamps must match exactly; decoded images within a lossy-codec tolerance.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch
from helpers import config, dataset_flags, wait_until
from lerobot_helpers import Episode, built_session, compare, episode_bounds, image_error, read_back
from rollout_console.features import FeatureLayout
from rollout_console.recording import EpisodeRecorder, RecorderSpec, VideoSettings, dataset_features

FPS = 30
H, W = 48, 64
# mean absolute error per frame (0..255) allowed between what was recorded and what LeRobot decodes
MAX_IMAGE_ERROR = {"h264": 8.0, "libsvtav1": 8.0}


def _layout() -> FeatureLayout:
    joints = ("shoulder_pan.pos", "elbow_flex.pos", "gripper.pos")
    return FeatureLayout(joints, ("env.object_x",), {"front": (H, W, 3), "wrist": (H, W, 3)}, joints)


def _image(episode: int, i: int, camera: int) -> np.ndarray:
    """Frames that differ strongly from their neighbours, so a one-frame shift cannot go unnoticed."""
    image = np.full((H, W, 3), (30 + 23 * i + 61 * camera + 17 * episode) % 200 + 25, dtype=np.uint8)
    x = (6 * i) % (W - 8)
    image[:, x:x + 8, :] = 255 - image[0, 0, 0]
    return image


def _frame(episode: int, i: int, layout: FeatureLayout, intervention: bool) -> dict:
    return {
        "observation.state": np.array([episode, i / 7.0, -i * 0.3], np.float32),
        "observation.environment_state": np.array([np.pi * i], np.float32),
        "action": np.array([episode + 0.125, i / 3.0, 1e-3 * i], np.float32),
        "observation.images.front": _image(episode, i, 0),
        "observation.images.wrist": _image(episode, i, 1),
        "intervention": intervention,
    }


@pytest.mark.parametrize("vcodec", ["h264", "libsvtav1"])
def test_recorder_datasets_read_back_frame_exact(tmp_path, vcodec) -> None:
    root = tmp_path / vcodec
    layout = _layout()
    spec = RecorderSpec(root=root, repo_id=f"tester/direct_{vcodec}", fps=FPS,
                        features=dataset_features(layout, video=True, intervention=True), robot_type="fake_arm",
                        video=VideoSettings(vcodec=vcodec, threads=1), extras={"outcome": "string"})
    recorder = EpisodeRecorder.open(spec, resume=False)
    plan = [("pick the cube", 25), ("place it", 1), ("pick the cube", 40)]
    episodes: list[Episode] = []
    try:
        recorder.start_episode("discarded attempt")
        for i in range(5):
            recorder.add_frame(_frame(99, i, layout, False))
        assert recorder.discard_episode()
        for n, (task, length) in enumerate(plan):
            recorder.start_episode(task)
            frames = [_frame(n, i, layout, intervention=(i % 3 == 1)) for i in range(length)]
            for frame in frames:
                recorder.add_frame(frame)
            recorder.save_episode({"outcome": "success" if n else None}).result(timeout=60)
            episodes.append(Episode(task, frames))
    finally:
        recorder.close(timeout=60)

    dataset = read_back(root, spec.repo_id)
    stats = compare(dataset, episodes, FPS, MAX_IMAGE_ERROR[vcodec], intervention=True)
    assert stats["frames"] == 2 * sum(length for _, length in plan)
    info = json.loads((root / "meta" / "info.json").read_text())
    codec = info["features"]["observation.images.front"]["info"]["video.codec"]
    assert codec == {"h264": "h264", "libsvtav1": "av1"}[vcodec]
    assert set(dataset.meta.tasks.index) == {"pick the cube", "place it"}
    assert dataset.meta.total_tasks == 2 and dataset.meta.robot_type == "fake_arm"
    # frame-exact: every decoded frame is closest to the frame recorded at its own index
    start, stop = episode_bounds(dataset)[2]
    for i in range(1, stop - start - 1):
        decoded = dataset[start + i]["observation.images.front"]
        errors = {shift: image_error(decoded, episodes[2].frames[i + shift]["observation.images.front"])
                  for shift in (-1, 0, 1)}
        assert min(errors, key=errors.get) == 0, (i, errors)

    loader = torch.utils.data.DataLoader(dataset, batch_size=8, shuffle=False, num_workers=0)
    batch = next(iter(loader))
    assert batch["observation.images.front"].shape == (8, 3, H, W)
    assert batch["observation.images.front"].dtype == torch.float32
    assert batch["observation.state"].shape == (8, 3) and batch["action"].shape == (8, 3)
    assert batch["intervention"].dtype == torch.bool and batch["intervention"].tolist() == \
        [i % 3 == 1 for i in range(8)]
    assert batch["task"] == ["pick the cube"] * 8
    torch.testing.assert_close(batch["timestamp"], torch.arange(8, dtype=torch.float32) / FPS)


def test_sentry_session_h264(tmp_path) -> None:
    root = tmp_path / "sentry"
    cfg = config(*dataset_flags(root, "sentry", "--dataset.single_task=reach the block"),
                 "--return_to_initial_position=false")
    with built_session(cfg) as session:
        wait_until(lambda: session.loop.stats.ticks > 25, message="ticks")
        assert session.submit("save", {"outcome": "success"}).accepted
        wait_until(lambda: session.recording.frames > 15, message="second episode")
    episodes = session.tee.saved
    assert len(episodes) == 2 and all(len(e.frames) > 15 for e in episodes)
    dataset = read_back(root, "tester/sentry_test")
    stats = compare(dataset, episodes, FPS, MAX_IMAGE_ERROR["h264"])
    assert dataset.meta.video_keys == ["observation.images.front", "observation.images.top"]
    assert stats["mean"] < 6.0
    assert dataset[0]["task"] == "reach the block"
    assert dataset.meta.robot_type == "sim_so101"


def test_highlight_session_libsvtav1_with_a_jpeg_ring(tmp_path) -> None:
    root = tmp_path / "highlight"
    flags = dataset_flags(root, "highlight", "--strategy.ring_buffer_seconds=0.5", "--strategy.compress_ring=true",
                          "--dataset.vcodec=libsvtav1")
    with built_session(config(*flags, "--task=stack", "--return_to_initial_position=false")) as session:
        wait_until(lambda: session.status()["recording"]["ring"]["fill"] >= 0.99, message="a full ring")
        assert session.submit("mark").accepted
        wait_until(lambda: session.recording.frames >= 15 + 10, message="frames after the mark")
        assert session.submit("save").accepted
        assert session.submit("mark").accepted
        time.sleep(0.3)
        assert session.submit("save").accepted
    episodes = session.tee.saved
    assert len(episodes) == 2 and len(episodes[0].frames) >= 15 + 10  # 0.5 s of history + after the mark
    dataset = read_back(root, "tester/highlight_test")
    compare(dataset, episodes, FPS, MAX_IMAGE_ERROR["libsvtav1"])
    info = json.loads((root / "meta" / "info.json").read_text())
    assert info["features"]["observation.images.top"]["info"]["video.codec"] == "av1"


def test_dagger_session_with_intervention(tmp_path) -> None:
    root = tmp_path / "dagger"
    flags = dataset_flags(root, "dagger", "--teleop.driver=expert", "--strategy.record_autonomous=true",
                          "--return_to_initial_position=false")
    with built_session(config(*flags)) as session:
        time.sleep(0.5)
        assert session.submit("pause").accepted
        assert session.submit("takeover").accepted
        time.sleep(0.6)
        assert session.submit("handback").accepted
        assert session.submit("resume").accepted
        time.sleep(0.4)
        assert session.submit("save", {"outcome": "success"}).accepted
    episodes = session.tee.saved
    assert episodes
    flags_seen = {bool(frame["intervention"]) for episode in episodes for frame in episode.frames}
    assert flags_seen == {True, False}
    dataset = read_back(root, "tester/dagger_test")
    compare(dataset, episodes, FPS, MAX_IMAGE_ERROR["h264"], intervention=True)
    assert dataset.meta.features["intervention"]["dtype"] == "bool"
    values = torch.stack([dataset[i]["intervention"] for i in range(dataset.num_frames)])
    assert values.any() and not values.all()
