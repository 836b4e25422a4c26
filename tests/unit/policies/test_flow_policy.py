"""Flow policy: dataset reading, training, save/load, guided prediction and the trainer's command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from rollout_console.features import ENV_STATE, STATE
from rollout_console.policies.flow.dataset import load_dataset
from rollout_console.policies.flow.demo_data import DemoConfig, generate_demos
from rollout_console.policies.flow.policy import FlowPolicy, load_flow_policy, resolve_checkpoint
from rollout_console.policies.flow.train import TrainConfig, main, train
from rollout_console.policies.protocol import GuidedPolicy

SMALL = ["--hidden_dim=64", "--block_dim=64", "--num_blocks=1", "--cond_dim=32", "--chunk_size=12",
         "--num_inference_steps=4", "--progress=false"]


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data") / "demos"
    generate_demos(DemoConfig(root=str(root), episodes=6, seed=3))
    return root


def _config(demos: Path, out: Path, *extra: str) -> TrainConfig:
    from rollout_console.policies.flow.cli_flags import parse_model_flags

    return parse_model_flags(TrainConfig, [f"--dataset.root={demos}", f"--output_dir={out}", *SMALL, *extra])


def test_demo_dataset_is_v3_shaped(demos: Path) -> None:
    info = json.loads((demos / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["total_episodes"] == 6
    table = pq.read_table(demos / "data" / "chunk-000" / "file-000.parquet")
    for column in (STATE, ENV_STATE, "action", "episode_index", "frame_index", "timestamp", "index"):
        assert column in table.column_names
    assert table.num_rows == info["total_frames"]
    episodes = pq.read_table(demos / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    assert episodes["length"].to_pylist() and sum(episodes["length"].to_pylist()) == table.num_rows


def test_chunks_stay_in_their_episode_and_repeat_the_last_action(demos: Path) -> None:
    data = load_dataset(demos)
    assert data.num_episodes == 6 and data.state.shape[1] == 6 and data.env.shape[1] == 6
    end = int(data.episode_end[0])
    rows = data.chunk_rows(np.array([0, end - 3]), 5)
    np.testing.assert_array_equal(rows[0], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(rows[1], [end - 3, end - 2, end - 1, end - 1, end - 1])
    assert data.episode_index[end] == data.episode_index[0] + 1


def test_training_reduces_the_loss_and_the_checkpoint_round_trips(demos: Path, tmp_path: Path) -> None:
    config = _config(demos, tmp_path / "ckpt", "--steps=150", "--lr=3e-3", "--warmup_steps=10")
    net, losses = train(config, log=False)
    assert np.mean(losses[-20:]) < 0.6 * np.mean(losses[:20])
    saved = json.loads((tmp_path / "ckpt" / "config.json").read_text())
    assert saved["type"] == "flow" and saved["chunk_size"] == 12 and saved["training"]["steps"] == 150
    loaded = load_flow_policy(tmp_path / "ckpt", seed=0)
    fresh = FlowPolicy(net, seed=0)
    obs = {STATE: load_dataset(demos).state[0], ENV_STATE: load_dataset(demos).env[0]}
    a, b = loaded.predict_chunk(obs), fresh.predict_chunk(obs)
    assert a.shape == (12, 6) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, atol=1e-5)
    for key, tensor in net.state_dict().items():  # normalisation statistics travel with the weights
        assert torch.equal(tensor, loaded.net.state_dict()[key]), key
    assert float(loaded.net.action_std[0]) > 1.0


def test_guided_prediction_follows_the_prefix_and_reorders_joints(demos: Path, tmp_path: Path) -> None:
    config = _config(demos, tmp_path / "ckpt", "--steps=30")
    net, _ = train(config, log=False)
    names = net.config.action_names
    policy = FlowPolicy(net, seed=1)
    assert isinstance(policy, GuidedPolicy)
    data = load_dataset(demos)
    obs = {STATE: data.state[10], ENV_STATE: data.env[10]}
    prefix = data.action[40:46]  # a prefix from elsewhere in the episode: far from what o_10 predicts
    errors = []
    for beta in (0.0, 10.0):
        torch.manual_seed(0)
        policy.reseed(5)
        chunk = policy.predict_chunk_guided(obs, prefix, 3, 6, "LINEAR", beta)
        errors.append(float(np.abs(chunk[:3] - prefix[:3]).mean()))
    assert errors[1] < 0.75 * errors[0]
    # the robot may order joints differently from the checkpoint: inputs and outputs are mapped
    reversed_names = list(reversed(names))
    flipped = FlowPolicy(net, state_names=reversed_names, action_names=reversed_names, seed=1)
    flipped_obs = {STATE: data.state[10][::-1].copy(), ENV_STATE: data.env[10]}
    policy.reseed(7)
    flipped.reseed(7)
    np.testing.assert_allclose(flipped.predict_chunk(flipped_obs)[:, ::-1], policy.predict_chunk(obs), atol=1e-5)
    with pytest.raises(ValueError, match="not the ones this policy predicts"):
        FlowPolicy(net, action_names=["x.pos"] * 6)
    with pytest.raises(ValueError, match="lacks the joint states"):
        FlowPolicy(net, state_names=names[:5])


def test_an_empty_prefix_gives_an_ordinary_sample(demos: Path, tmp_path: Path) -> None:
    net, _ = train(_config(demos, tmp_path / "ckpt", "--steps=5"), log=False)
    policy = FlowPolicy(net, seed=0)
    obs = {STATE: np.zeros(6, np.float32), ENV_STATE: np.zeros(6, np.float32)}
    policy.reseed(3)
    plain = policy.predict_chunk(obs)
    policy.reseed(3)
    guided = policy.predict_chunk_guided(obs, np.zeros((0, 6), np.float32), 4, 10)
    np.testing.assert_array_equal(plain, guided)


def test_image_conditioned_training_and_inference(tmp_path: Path) -> None:
    root = tmp_path / "img"
    generate_demos(DemoConfig(root=str(root), episodes=2, seed=1, image_view="top", image_height=24, image_width=32))
    data = load_dataset(root, image_key="top", image_size=(24, 32))
    assert data.images is not None and data.images.shape == (len(data), 3, 24, 32) and data.images.max() > 0
    out = tmp_path / "ckpt"
    assert main([f"--dataset.root={root}", f"--output_dir={out}", *SMALL, "--steps=3", "--image=true",
                 "--image_height=24", "--image_width=32"]) == 0
    policy = load_flow_policy(out)
    assert policy.config.image_key == "observation.images.top"
    obs = {STATE: data.state[0], ENV_STATE: data.env[0],
           "observation.images.top": np.zeros((120, 160, 3), np.uint8)}
    assert policy.predict_chunk(obs).shape == (12, 6)
    with pytest.raises(ValueError, match="observation.images.top"):
        policy.predict_chunk({STATE: data.state[0], ENV_STATE: data.env[0]})


def test_trainer_command_line(demos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    assert main([f"--dataset.root={demos}", f"--output_dir={out}", *SMALL, "--steps=2"]) == 0
    assert (out / "model.safetensors").is_file() and resolve_checkpoint(out) == out
    capsys.readouterr()
    cases = {
        "--output_dir": [f"--dataset.root={demos}", *SMALL],
        "--dataset.root": [f"--dataset.root={tmp_path / 'missing'}", f"--output_dir={tmp_path / 'x'}"],
        "--stpes": [f"--dataset.root={demos}", f"--output_dir={tmp_path / 'y'}", "--stpes=3"],
        "--batch_size": [f"--dataset.root={demos}", f"--output_dir={tmp_path / 'z'}", "--batch_size=0"],
    }
    for flag, argv in cases.items():
        assert main(argv) == 2, flag
        assert flag in capsys.readouterr().err, flag
    # an existing checkpoint is not overwritten by accident
    assert main([f"--dataset.root={demos}", f"--output_dir={out}", *SMALL, "--steps=2"]) == 2
    assert "--overwrite=true" in capsys.readouterr().err
    assert main(["--help"]) == 0 and "--dataset.root" in capsys.readouterr().out


def test_checkpoint_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no builtin checkpoint"):
        resolve_checkpoint("builtin:nope")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        resolve_checkpoint(tmp_path)
