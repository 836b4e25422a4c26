"""Checkpoints saved by LeRobot 0.6.1 itself (random weights, built here), and what other releases write.

A checkpoint from an older release (0.4.4's config classes lack fields 0.6.1 added, e.g.
``pretrained_revision``) loads with defaults; one with a field the installed release does not know stops
before anything moves, naming the field and both versions, from the real CLI without a traceback. The
rename map saved in the checkpoint's preprocessor applies unless ``--policy.rename_map`` replaces it, as
in ``lerobot-rollout``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO, config
from lerobot.configs.policies import PreTrainedConfig
from lerobot_helpers import save_act
from rollout_console.config.lerobot import LeRobotPolicyConfig
from rollout_console.errors import ConfigError
from rollout_console.features import FeatureLayout
from rollout_console.policies.lerobot_policy import LeRobotPolicy, load_lerobot_policy
from rollout_console.runtime import build_session

JOINTS = ("shoulder_pan.pos", "shoulder_lift.pos", "elbow_flex.pos", "wrist_flex.pos", "wrist_roll.pos",
          "gripper.pos")
LAYOUT = FeatureLayout(JOINTS, (), {"front": (48, 64, 3)}, JOINTS)
OBS = {"observation.state": np.linspace(-10, 10, 6, dtype=np.float32),
       "observation.images.front": np.full((48, 64, 3), 90, np.uint8), "task": "pick"}


@pytest.fixture(scope="module")
def act_061(tmp_path_factory) -> Path:
    """An ACT saved by LeRobot 0.6.1's own save_pretrained (config.json, weights, processors)."""
    out = save_act(tmp_path_factory.mktemp("act061") / "act",
                   {"observation.state": (6,), "observation.images.front": (3, 48, 64)}, action_dim=6, chunk_size=8)
    saved = json.loads((out / "config.json").read_text())
    assert saved["type"] == "act" and "pretrained_revision" in saved  # what 0.6.1 writes
    return out


def _variant(source: Path, where: Path, edit) -> Path:
    shutil.copytree(source, where)
    data = json.loads((where / "config.json").read_text())
    edit(data)
    (where / "config.json").write_text(json.dumps(data, indent=4))
    return where


def _load(path: Path, **options) -> LeRobotPolicy:
    return load_lerobot_policy(LeRobotPolicyConfig(path=str(path), **options), LAYOUT, 30.0)


def test_a_061_checkpoint_loads_and_runs(act_061) -> None:
    policy = _load(act_061)
    assert policy.predict_chunk(OBS).shape == (8, 6)


def test_an_older_release_config_loads_with_defaults(act_061, tmp_path) -> None:
    # LeRobot 0.4.4's PreTrainedConfig has no pretrained_revision (0.6.1 added it): such a config.json loads
    older = _variant(act_061, tmp_path / "older", lambda data: data.pop("pretrained_revision"))
    policy = _load(older)
    assert policy.policy.config.pretrained_revision is None
    np.testing.assert_array_equal(policy.predict_chunk(OBS), _load(act_061).predict_chunk(OBS))


def test_an_unknown_field_names_the_field_and_both_versions(act_061, tmp_path) -> None:
    newer = _variant(act_061, tmp_path / "newer", lambda data: data.update(temporal_ensemble_mode="adaptive"))
    with pytest.raises(ConfigError) as error:
        _load(newer)
    message = str(error.value)
    assert error.value.flag == "--policy.path"
    assert "temporal_ensemble_mode" in message and "ACTConfig" in message
    assert "installed LeRobot 0.6.1" in message and "does not record" in message
    (newer / "README.md").write_text("---\nlibrary_name: lerobot\n---\n| lerobot_version | 0.7.2 |\n")
    with pytest.raises(ConfigError, match=r"saved by LeRobot 0\.7\.2.*re-save it with LeRobot 0\.6\.1"):
        _load(newer)


def test_an_unknown_policy_type_is_named(act_061, tmp_path) -> None:
    other = _variant(act_061, tmp_path / "other", lambda data: data.update(type="act_v9"))
    with pytest.raises(ConfigError, match=r"'act_v9' policy, a type the installed LeRobot 0\.6\.1 does not have"):
        _load(other)
    assert "act" in PreTrainedConfig.get_known_choices()


def test_the_cli_stops_before_anything_moves_without_a_traceback(act_061, tmp_path) -> None:
    newer = _variant(act_061, tmp_path / "newer", lambda data: data.update(temporal_ensemble_mode="adaptive"))
    proc = subprocess.run([sys.executable, "-m", "rollout_console", f"--policy.path={newer}",
                           "--robot.camera_width=64", "--robot.camera_height=48", "--robot.cameras=front"],
                          capture_output=True, text=True, timeout=180, cwd=REPO,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "--policy.path" in out and "temporal_ensemble_mode" in out and "0.6.1" in out
    assert "Traceback" not in out


@pytest.fixture(scope="module")
def renamed_act(tmp_path_factory) -> Path:
    """An ACT trained on 'observation.images.cam_high' whose saved preprocessor renames front -> cam_high."""
    out = save_act(tmp_path_factory.mktemp("renamed") / "act",
                   {"observation.state": (6,), "observation.images.cam_high": (3, 48, 64)}, action_dim=6,
                   chunk_size=8)
    path = out / "policy_preprocessor.json"
    pipeline = json.loads(path.read_text())
    step = next(s for s in pipeline["steps"] if s.get("registry_name") == "rename_observations_processor")
    step["config"]["rename_map"] = {"observation.images.front": "observation.images.cam_high"}
    path.write_text(json.dumps(pipeline, indent=2))
    return out


def test_the_saved_rename_map_applies(renamed_act) -> None:
    policy = _load(renamed_act)
    assert policy.renamed_by_pipeline and policy.rename_map == {"observation.images.front":
                                                               "observation.images.cam_high"}
    assert policy.predict_chunk(OBS).shape == (8, 6)


def test_a_rename_flag_replaces_the_saved_map(renamed_act) -> None:
    with pytest.raises(ConfigError, match="needs observation.images.cam_high"):
        _load(renamed_act, rename_map={"observation.images.front": "observation.images.other"})
    cfg = config(f"--policy.path={renamed_act}", "--robot.camera_width=64", "--robot.camera_height=48",
                 "--robot.cameras=top", "--policy.rename_map={observation.images.top: observation.images.cam_high}")
    session = build_session(cfg)
    try:
        policy = session.ctx.engine.policy
        assert policy.rename_map == {"observation.images.top": "observation.images.cam_high"}
        frame = {**OBS, "observation.images.top": OBS["observation.images.front"]}
        del frame["observation.images.front"]
        assert policy.predict_chunk(frame).shape == (8, 6)
    finally:
        session.shutdown()
