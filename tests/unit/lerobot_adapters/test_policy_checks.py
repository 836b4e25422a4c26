"""The check that runs before anything moves: the policy's inputs and action against the robot's features."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import pytest
from rollout_console.errors import ConfigError
from rollout_console.features import FeatureLayout
from rollout_console.policies.lerobot_policy import _training_info, check_features

JOINTS = ("shoulder_pan.pos", "shoulder_lift.pos", "elbow_flex.pos", "wrist_flex.pos", "wrist_roll.pos",
          "gripper.pos")
ENV = ("env.object_x", "env.object_y")
LAYOUT = FeatureLayout(JOINTS, ENV, {"front": (120, 160, 3), "wrist": (120, 160, 3)}, JOINTS)


def ft(*shape: int) -> SimpleNamespace:
    return SimpleNamespace(shape=shape)


ACT_INPUTS = {"observation.state": ft(6), "observation.images.front": ft(3, 120, 160),
              "observation.images.wrist": ft(3, 120, 160)}


def names(action=JOINTS, state=JOINTS) -> dict:
    return {"action": {"dtype": "float32", "shape": [6], "names": list(action)},
            "observation.state": {"dtype": "float32", "shape": [6], "names": list(state)}}


def test_matching_policy_passes_and_reports_what_it_checked() -> None:
    check = check_features(ACT_INPUTS, (6,), LAYOUT, dataset_features=names(), names_source="ds/meta/info.json")
    assert check.inputs == tuple(ACT_INPUTS) and check.names_verified and check.names_source == "ds/meta/info.json"
    unverified = check_features(ACT_INPUTS, (6,), LAYOUT)
    assert not unverified.names_verified and unverified.as_dict()["names_source"] is None


def test_missing_camera_suggests_a_rename_map() -> None:
    inputs = {"observation.state": ft(6), "observation.images.top": ft(3, 120, 160)}
    with pytest.raises(ConfigError) as error:
        check_features(inputs, (6,), LAYOUT)
    assert error.value.flag == "--policy.path"
    assert "needs observation.images.top" in str(error.value)
    assert "--policy.rename_map='{observation.images.front: observation.images.top}'" in str(error.value)
    renamed = check_features(inputs, (6,), LAYOUT, rename_map={"observation.images.front": "observation.images.top"})
    assert "observation.images.top" in renamed.inputs


def test_rename_of_something_the_robot_lacks() -> None:
    with pytest.raises(ConfigError, match="renames observation.images.side") as error:
        check_features(ACT_INPUTS, (6,), LAYOUT, rename_map={"observation.images.side": "observation.images.top"})
    assert error.value.flag == "--policy.rename_map"


@pytest.mark.parametrize(("inputs", "action", "message"), [
    ({"observation.state": ft(7)}, (6,), "expects observation.state of size 7, the robot gives 6"),
    ({"observation.environment_state": ft(3)}, (6,), "observation.environment_state of size 3, the robot gives 2"),
    ({"observation.state": ft(6)}, (14,), "outputs 14 action values, the robot takes 6"),
    ({"observation.images.front": ft(1, 120, 160)}, (6,), "with 1 channels, the camera gives 3"),
])
def test_size_mismatches(inputs, action, message) -> None:
    with pytest.raises(ConfigError, match=message):
        check_features(inputs, action, LAYOUT)


def test_other_image_sizes_are_accepted() -> None:  # vision backbones resize or pool
    check_features({"observation.images.front": ft(3, 480, 640)}, (6,), LAYOUT)


def test_joint_order_is_checked_against_the_training_dataset() -> None:
    swapped = (JOINTS[1], JOINTS[0], *JOINTS[2:])
    with pytest.raises(ConfigError) as error:
        check_features(ACT_INPUTS, (6,), LAYOUT, dataset_features=names(action=swapped), names_source="info.json")
    assert "(the same joints in another order)" in str(error.value)
    assert "action = [shoulder_lift.pos" in str(error.value)
    other = ("a", "b", "c", "d", "e", "f")
    with pytest.raises(ConfigError, match=r"observation.state = \[a, b") as error:
        check_features(ACT_INPUTS, (6,), LAYOUT, dataset_features=names(state=other), names_source="info.json")
    assert "another order" not in str(error.value)
    legacy = {"action": {"names": {"motors": list(JOINTS)}}}  # older datasets nest the names
    assert check_features(ACT_INPUTS, (6,), LAYOUT, dataset_features=legacy).names_verified


def test_training_info_from_features_from_or_train_config(tmp_path, monkeypatch) -> None:
    dataset = tmp_path / "ds"
    (dataset / "meta").mkdir(parents=True)
    (dataset / "meta" / "info.json").write_text(json.dumps({"fps": 30, "features": names()}))
    info, source = _training_info(None, str(dataset))
    assert info["fps"] == 30 and source == str(dataset / "meta" / "info.json")
    with pytest.raises(ConfigError) as error:
        _training_info(None, str(tmp_path / "nope"))
    assert error.value.flag == "--policy.features_from"
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    assert _training_info(checkpoint, None) == (None, None)
    (checkpoint / "train_config.json").write_text(json.dumps({"dataset": {"repo_id": "me/ds", "root": None}}))
    home = tmp_path / "home"
    (home / "me" / "ds" / "meta").mkdir(parents=True)
    (home / "me" / "ds" / "meta" / "info.json").write_text(json.dumps({"fps": 15, "features": names()}))
    monkeypatch.setenv("HF_LEROBOT_HOME", str(home))
    info, source = _training_info(checkpoint, None)
    assert info["fps"] == 15 and source.endswith("me/ds/meta/info.json")


def test_missing_lerobot_is_a_config_error(monkeypatch) -> None:
    from rollout_console.config.lerobot import LeRobotPolicyConfig, LeRobotRobotConfig
    from rollout_console.hardware.lerobot.factory import make_lerobot_robot
    from rollout_console.policies.lerobot_policy import load_lerobot_policy

    monkeypatch.setitem(sys.modules, "lerobot", None)  # import lerobot -> ImportError, installed or not
    with pytest.raises(ConfigError, match=r"needs LeRobot.*not installed.*rollout-console\[lerobot\]") as error:
        make_lerobot_robot(LeRobotRobotConfig.model_validate({"type": "so101_follower", "port": "/dev/x"}))
    assert error.value.flag == "--robot.type"
    with pytest.raises(ConfigError) as error:
        load_lerobot_policy(LeRobotPolicyConfig(path="user/act"), LAYOUT, 30.0)
    assert error.value.flag == "--policy.path"
