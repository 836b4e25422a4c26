"""The whole loop with LeRobot 0.6.1's own tools, offline, as one chain of module-scoped steps:

console records on the sim -> LeRobot writes a second dataset of the same frames with its own
``LeRobotDataset.create/add_frame/save_episode`` -> ``lerobot-edit-dataset`` merges the two (the merged
``info.json`` keeps every video field only where both sources agree, so identical fields prove the console
writes what LeRobot writes) -> ``lerobot-train`` trains a tiny ACT a few steps on the merge -> the console
deploys that checkpoint with the sync engine and with asynchronous chunking (``--inference.type=rtc
--inference.rtc.guidance=false``), recording again -> the new datasets load in LeRobot, frame-exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import config, dataset_flags, wait_until
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot_helpers import Episode, built_session, compare, read_back

pytestmark = pytest.mark.slow

FPS = 30
DEFAULT_KEYS = {"timestamp", "frame_index", "episode_index", "index", "task_index"}
BIN = Path(sys.executable).parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "WANDB_MODE": "disabled"}


def _run(*args: str, timeout: float = 600) -> str:
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=ENV, timeout=timeout)
    assert proc.returncode == 0, f"{args[0]} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc.stdout + proc.stderr


def _record(root: Path, *flags: str, frames: int = 24, episodes: int = 2) -> list[Episode]:
    """A sentry session on the sim into ``root`` (AV1, LeRobot's default encoder); the recorded frames."""
    # a backlog cut (encoders behind on a loaded machine) would save an episode the Tee never sees: this
    # test is about the format, so the encoders may lag as long as they need
    cfg = config(*dataset_flags(root, "sentry", "--dataset.vcodec=libsvtav1", "--dataset.single_task=reach",
                                "--dataset.max_encoder_backlog_s=600"),
                 "--return_to_initial_position=false", *flags)
    with built_session(cfg) as session:
        for n in range(episodes):
            wait_until(lambda: session.recording.frames >= frames, timeout=120, message=f"episode {n} frames")
            if n < episodes - 1:
                index = session.status()["recording"]["episode_index"]
                # acknowledged once durable: on a loaded machine the next episode may already be long by then
                assert session.submit("save").accepted
                wait_until(lambda: (session.status()["recording"]["episode_index"] or 0) > index, timeout=60,
                           message="a new episode")
        assert session.status()["inference"]["errors"] == 0
    saved = session.tee.saved
    assert len(saved) == episodes and all(len(e.frames) >= frames for e in saved)
    return saved


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("loop")
    out: dict = {"base": base}
    # 1. the console records on the sim
    out["console_root"] = base / "console"
    out["console_episodes"] = _record(out["console_root"])
    info = json.loads((out["console_root"] / "meta" / "info.json").read_text())
    out["console_info"] = info
    # 2. LeRobot writes the same frames with its own writer
    features = {key: {"dtype": spec["dtype"], "shape": tuple(spec["shape"]), "names": spec["names"]}
                for key, spec in info["features"].items() if key not in DEFAULT_KEYS}
    root = base / "lerobot_written"
    dataset = LeRobotDataset.create("tester/lerobot_written", FPS, root=root, robot_type=info["robot_type"],
                                    features=features, use_videos=True)
    for episode in out["console_episodes"]:
        for frame in episode.frames:
            dataset.add_frame({**{key: frame[key] for key in features}, "task": episode.task})
        dataset.save_episode()
    dataset.finalize()
    out["lerobot_root"] = root
    return out


@pytest.fixture(scope="module")
def merged(chain) -> Path:
    root = chain["base"] / "merged"
    _run(BIN / "lerobot-edit-dataset", "--new_repo_id=tester/merged", f"--new_root={root}", "--operation.type=merge",
         "--operation.repo_ids=[tester/sentry_test, tester/lerobot_written]",
         f"--operation.roots=[{chain['console_root']}, {chain['lerobot_root']}]", "--push_to_hub=false")
    return root


@pytest.fixture(scope="module")
def trained(chain, merged) -> Path:
    out = chain["base"] / "train"
    log = _run(BIN / "lerobot-train", "--dataset.repo_id=tester/merged", f"--dataset.root={merged}",
               "--policy.type=act", "--policy.device=cpu", "--policy.push_to_hub=false",
               "--policy.pretrained_backbone_weights=null", "--policy.dim_model=64", "--policy.dim_feedforward=128",
               "--policy.n_heads=4", "--policy.n_encoder_layers=1", "--policy.n_decoder_layers=1",
               "--policy.chunk_size=10", "--policy.n_action_steps=10", "--steps=3", "--batch_size=2",
               "--num_workers=0", "--log_freq=1", "--save_freq=3", "--wandb.enable=false", f"--output_dir={out}")
    assert "step:3" in log and "End of training" in log, log[-3000:]
    checkpoint = out / "checkpoints" / "last" / "pretrained_model"
    assert (checkpoint / "model.safetensors").is_file() and (checkpoint / "policy_preprocessor.json").is_file()
    return checkpoint


def test_lerobot_writes_the_same_metadata_as_the_console(chain) -> None:
    console = chain["console_info"]
    lerobot = json.loads((chain["lerobot_root"] / "meta" / "info.json").read_text())
    assert console["features"] == lerobot["features"]  # dtypes, shapes, names, and every video info field
    for key in ("codebase_version", "fps", "robot_type", "total_episodes", "total_frames", "total_tasks",
                "chunks_size", "data_path", "video_path", "splits"):
        assert console[key] == lerobot[key], key
    ours = json.loads((chain["console_root"] / "meta" / "stats.json").read_text())
    theirs = json.loads((chain["lerobot_root"] / "meta" / "stats.json").read_text())
    assert set(ours) == set(theirs)
    for key in ours:
        assert set(ours[key]) == set(theirs[key]), key
        for stat in ours[key]:
            assert np.shape(ours[key][stat]) == np.shape(theirs[key][stat]), (key, stat)
        assert ours[key]["count"] == theirs[key]["count"], key  # images too: one count per frame


def test_lerobot_edit_dataset_merges_a_console_dataset_frame_exact(chain, merged) -> None:
    info = json.loads((merged / "meta" / "info.json").read_text())
    console = chain["console_info"]
    for key in [k for k, spec in console["features"].items() if spec["dtype"] == "video"]:
        # the merge keeps a video field only when both sources agree (else null / {}): all must survive
        assert info["features"][key]["info"] == console["features"][key]["info"], key
    dataset = LeRobotDataset("tester/merged", root=merged, video_backend="torchcodec")
    episodes = chain["console_episodes"]
    assert dataset.num_episodes == 2 * len(episodes)
    compare(dataset, [*episodes, *episodes], FPS, max_image_error=8.0)


def test_deploy_the_trained_checkpoint_sync_then_async_and_record_again(chain, trained) -> None:
    flags = (f"--policy.path={trained}",)
    sync_root = chain["base"] / "sync"
    sync = _record(sync_root, *flags, frames=12, episodes=1)
    compare(read_back(sync_root, "tester/sentry_test"), sync, FPS, max_image_error=8.0)

    async_root = chain["base"] / "async"
    cfg = config(*dataset_flags(async_root, "sentry", "--dataset.vcodec=libsvtav1"), *flags,
                 "--inference.type=rtc", "--inference.rtc.guidance=false", "--inference.queue_threshold=4",
                 "--return_to_initial_position=false")
    with built_session(cfg) as session:
        policy = session.ctx.engine.policy
        assert policy.check.names_verified  # joint names checked against the merged dataset (train_config.json)
        wait_until(lambda: session.status()["inference"]["inferences"] >= 3, timeout=120, message="async chunks")
        wait_until(lambda: session.recording.frames >= 12, timeout=120, message="frames")
        status = session.status()
        assert status["inference"]["mode"] == "naive" and status["inference"]["errors"] == 0
        assert status["policy"]["name"].startswith("lerobot:act(pretrained_model)")
        assert session.submit("save").accepted
    episodes = session.tee.saved
    dataset = read_back(async_root, "tester/sentry_test")
    compare(dataset, episodes, FPS, max_image_error=8.0)
    actions = np.stack([frame["action"] for frame in episodes[0].frames])
    assert np.isfinite(actions).all() and np.ptp(actions, axis=0).max() > 0
