"""config/lerobot.py: LeRobot device and policy options, and the discriminators the unions use."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from rollout_console.config.lerobot import (
    LeRobotPolicyConfig,
    LeRobotRobotConfig,
    LeRobotTeleopConfig,
    device_family,
    policy_family,
)


def test_robot_keeps_lerobot_options_as_given() -> None:
    cams = {"front": {"type": "opencv", "index_or_path": 0, "width": 640, "height": 480, "fps": 30}}
    config = LeRobotRobotConfig.model_validate({"type": "so101_follower", "port": "/dev/ttyACM0", "id": "arm",
                                                "cameras": cams})
    assert config.type == "so101_follower"
    assert config.options == {"port": "/dev/ttyACM0", "id": "arm", "cameras": cams}
    with pytest.raises(ValidationError):
        config.type = "koch_follower"  # frozen, like every config model


@pytest.mark.parametrize("bad", ["sim", "SO101", "so-101", "", "so101 follower"])
def test_robot_type_must_be_a_lerobot_name(bad) -> None:
    with pytest.raises(ValidationError):
        LeRobotRobotConfig.model_validate({"type": bad})


def test_teleop_handover_fields_are_ours_and_not_passed_to_lerobot() -> None:
    config = LeRobotTeleopConfig.model_validate({"type": "so101_leader", "port": "/dev/ttyACM1",
                                                 "handover_max_s": "2.5", "handover": "none"})
    assert config.handover_max_s == 2.5 and config.handover == "none"
    assert config.options == {"port": "/dev/ttyACM1"}
    with pytest.raises(ValidationError):
        LeRobotTeleopConfig.model_validate({"type": "so101_leader", "handover_max_s": 0})


@pytest.mark.parametrize(("value", "family"), [
    ({}, "sim"), ({"type": "sim"}, "sim"), ({"type": "so101_follower"}, "lerobot"),
    ({"type": " koch_leader "}, "lerobot"), ({"port": "/dev/x"}, "sim"),
])
def test_device_family(value, family) -> None:
    assert device_family(value) == family
    assert device_family(LeRobotRobotConfig.model_validate({"type": "koch_follower"})) == "lerobot"


def test_policy_family(tmp_path) -> None:
    flow = tmp_path / "flow"
    flow.mkdir()
    (flow / "config.json").write_text(json.dumps({"type": "flow", "state_names": []}))
    act = tmp_path / "act"
    act.mkdir()
    (act / "config.json").write_text(json.dumps({"type": "act", "chunk_size": 100}))
    assert policy_family({}) == "scripted"
    assert policy_family({"type": "flow", "path": str(act)}) == "flow"  # an explicit type wins
    assert policy_family({"path": "builtin:sim_flow"}) == "flow"
    assert policy_family({"path": str(flow)}) == "flow"
    assert policy_family({"path": str(act)}) == "lerobot"
    assert policy_family({"path": "lerobot/act_aloha_sim_transfer_cube_human"}) == "lerobot"  # a Hub id
    assert policy_family({"path": str(tmp_path / "missing" / "dir")}) == "flow"  # flow reports it missing
    assert policy_family({"path": "./ckpt/act"}) == "flow"


def test_policy_options() -> None:
    config = LeRobotPolicyConfig.model_validate({
        "path": "user/act", "rename_map": "observation.images.front=observation.images.top, a=b",
        "n_action_steps": "50", "device": "cpu",
    })
    assert config.type == "lerobot" and config.path == "user/act"
    assert config.rename_map == {"observation.images.front": "observation.images.top", "a": "b"}
    assert config.overrides == {"n_action_steps": "50"}
    mapping = LeRobotPolicyConfig.model_validate({"path": "d", "rename_map": {"x": "y"}})
    assert mapping.rename_map == {"x": "y"} and mapping.overrides == {}
    for bad in ({"path": " "}, {"path": "builtin:sim_flow"}, {"path": "d", "rename_map": "nonsense"}, {}):
        with pytest.raises(ValidationError):
            LeRobotPolicyConfig.model_validate(bad)
