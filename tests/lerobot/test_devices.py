"""LeRobot robots and teleoperators through LeRobot's own registries and factories, into a real session.

The devices are registered with LeRobot's ``RobotConfig`` / ``CameraConfig`` / ``TeleoperatorConfig``
registries (fake_lerobot_devices.py); the console decodes the options with LeRobot's config classes,
creates them with ``make_robot_from_config`` / ``make_teleoperator_from_config`` and drives them.
"""

from __future__ import annotations

import builtins
import time

import fake_lerobot_devices as fakes
import numpy as np
import pytest
from helpers import config, dataset_flags, wait_until
from lerobot_helpers import built_session, compare, read_back, save_act
from rollout_console.config.inference import SyncInferenceConfig
from rollout_console.config.lerobot import LeRobotPolicyConfig, LeRobotRobotConfig, LeRobotTeleopConfig
from rollout_console.errors import ConfigError, HardwareError
from rollout_console.hardware.lerobot.cameras import LeRobotCameraSource
from rollout_console.hardware.lerobot.factory import make_lerobot_robot, make_lerobot_teleop
from rollout_console.inference.factory import build_engine_for
from rollout_console.policies.lerobot_policy import load_lerobot_policy

CAMERAS = {"front": {"type": "fake_camera", "width": 64, "height": 48, "fps": 30}}


def arm_config(tmp_path, **options) -> LeRobotRobotConfig:
    values = {"type": "fake_arm", "port": "/dev/fake0", "id": "arm1", "calibration_dir": str(tmp_path / "calib"),
              "cameras": CAMERAS, **options}
    return LeRobotRobotConfig.model_validate(values)


@pytest.fixture
def calibrated(tmp_path):
    fakes.write_calibration(tmp_path / "calib", "arm1")
    return tmp_path


def test_factory_uses_lerobot_config_classes_and_factories(calibrated) -> None:
    robot = make_lerobot_robot(arm_config(calibrated, max_relative_target="2.5", speed=1))
    arm = robot.robot
    assert type(arm) is fakes.FakeArm and type(arm.config) is fakes.FakeArmConfig
    assert arm.config.max_relative_target == 2.5 and arm.config.speed == 1.0  # decoded by LeRobot (draccus)
    assert type(arm.config.cameras["front"]) is fakes.FakeCameraConfig
    assert arm.calibration  # LeRobot's Robot loaded the calibration file
    assert str(robot) == "fake_arm arm1" and robot.name == "fake_arm"
    assert isinstance(robot.cameras["front"], LeRobotCameraSource) and arm.cameras == {}
    robot.connect()
    try:
        frame = robot.cameras["front"].wait_newer(0, 2.0)
        assert frame is not None and frame.image.shape == (48, 64, 3)
        obs = robot.get_observation()
        assert obs["front"].shape == (48, 64, 3) and isinstance(obs["gripper.pos"], float)
        sent = robot.send_action({f"{m}.pos": 100.0 for m in fakes.MOTORS})
        assert sent["shoulder_pan.pos"] == pytest.approx(2.5)  # clipped by LeRobot's max_relative_target
    finally:
        robot.disconnect()
    assert robot.cameras["front"].camera.is_connected is False


@pytest.mark.parametrize(("options", "flag", "message"), [
    ({"prot": "x"}, "--robot.prot", "did you mean --robot.port?"),
    ({"speed": "fast"}, "--robot.speed", "Couldn't parse 'fast'"),
    ({"cameras": {"front": {"type": "webcam"}}}, "--robot.cameras.front", "unknown camera type 'webcam'; known: "),
    ({"cameras": {"front": {"type": "fake_camera", "fps": 30}}}, "--robot.cameras", "'width' is required"),
    ({"max_relative_target": "a lot"}, "--robot.max_relative_target", "Could not decode"),
])
def test_bad_options_name_their_flag(tmp_path, options, flag, message) -> None:
    with pytest.raises(ConfigError) as error:
        make_lerobot_robot(arm_config(tmp_path, **options))
    assert error.value.flag == flag and message in str(error.value)


def test_missing_required_option_and_unknown_type(tmp_path) -> None:
    with pytest.raises(ConfigError) as error:
        make_lerobot_robot(LeRobotRobotConfig.model_validate({"type": "fake_arm"}))
    assert error.value.flag == "--robot.port" and "required" in str(error.value)
    with pytest.raises(ConfigError) as error:
        make_lerobot_robot(LeRobotRobotConfig.model_validate({"type": "so101_folower", "port": "x"}))
    assert error.value.flag == "--robot.type"
    assert "did you mean so101_follower?" in str(error.value) and "koch_follower" in str(error.value)
    with pytest.raises(ConfigError, match="unknown LeRobot teleoperator type 'fake_arm'"):
        make_lerobot_teleop(LeRobotTeleopConfig.model_validate({"type": "fake_arm", "port": "x"}))


def test_real_so101_follower_config_and_a_missing_port(tmp_path) -> None:
    """LeRobot's real SO-101 classes: options decode, and a missing serial port is a HardwareError."""
    robot = make_lerobot_robot(LeRobotRobotConfig.model_validate({
        "type": "so101_follower", "port": str(tmp_path / "ttyACM9"), "id": "desk_arm",
        "calibration_dir": str(tmp_path), "use_degrees": "true",
        "cameras": {"wrist": {"type": "opencv", "index_or_path": str(tmp_path / "video9"), "width": 640,
                              "height": 480, "fps": 30}},
    }))
    assert robot.observation_features["wrist"] == (480, 640, 3)
    assert next(iter(robot.action_features)) == "shoulder_pan.pos" and len(robot.action_features) == 6
    with pytest.raises(HardwareError, match=r"^so101_follower desk_arm: connecting failed: ConnectionError: "
                                            r"Could not connect on port .*lerobot-find-port"):
        robot.connect()
    assert not robot.is_connected


def test_uncalibrated_device_never_prompts(tmp_path, monkeypatch) -> None:
    asked = []
    monkeypatch.setattr(builtins, "input", lambda prompt="": asked.append(prompt) or "c")
    robot = make_lerobot_robot(arm_config(tmp_path))
    with pytest.raises(HardwareError) as error:
        robot.connect()
    assert "not calibrated: no calibration file" in str(error.value)
    assert "lerobot-calibrate --robot.type=fake_arm --robot.port=/dev/fake0 --robot.id=arm1" in str(error.value)
    assert asked == [] and not (tmp_path / "calib" / "arm1.json").exists()
    assert robot.robot.is_connected is False


def test_leader_through_lerobot_factory(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(builtins, "input", lambda prompt="": pytest.fail(f"prompted: {prompt}"))
    options = {"type": "fake_leader", "port": "/dev/fake1", "id": "lead1", "calibration_dir": str(tmp_path)}
    teleop = make_lerobot_teleop(LeRobotTeleopConfig.model_validate(options))
    with pytest.raises(HardwareError, match="lerobot-calibrate --teleop.type=fake_leader --teleop.port=/dev/fake1"):
        teleop.connect()
    fakes.write_calibration(tmp_path, "lead1")
    teleop = make_lerobot_teleop(LeRobotTeleopConfig.model_validate(options))
    teleop.connect()
    action = teleop.get_action()
    assert list(action) == [f"{m}.pos" for m in fakes.MOTORS] and all(type(v) is float for v in action.values())
    teleop.disconnect()


def _act_engine(tmp_path, robot_layout_inputs):
    checkpoint = save_act(tmp_path / "act_fake", robot_layout_inputs, action_dim=6, chunk_size=8)

    def engine(cfg, layout):
        policy = load_lerobot_policy(LeRobotPolicyConfig(path=str(checkpoint)), layout, cfg.fps)
        return build_engine_for(SyncInferenceConfig(), policy, cfg.fps)

    return engine


def test_session_records_a_lerobot_robot_driven_by_a_lerobot_policy(calibrated) -> None:
    """fake_arm via LeRobot's factory, ACT via LeRobot's loader, sentry recording, LeRobot reads it back."""
    root = calibrated / "ds"
    robot = make_lerobot_robot(arm_config(calibrated))
    engine = _act_engine(calibrated, {"observation.state": (6,), "observation.images.front": (3, 48, 64)})
    cfg = config(*dataset_flags(root, "sentry"), "--return_to_initial_position=false")
    with built_session(cfg, robot=robot, engine=engine) as session:
        wait_until(lambda: session.recording.frames > 20, timeout=15, message="frames")
        assert session.phase.value == "autonomous"
        assert session.status()["inference"]["inferences"] >= 2
        assert session.submit("save").accepted
    assert not robot.is_connected and robot.robot.cameras == {}
    dataset = read_back(root, "tester/sentry_test")
    compare(dataset, session.tee.saved, 30.0, max_image_error=8.0)
    assert dataset.meta.robot_type == "fake_arm"
    assert dataset.meta.features["observation.state"]["names"] == [f"{m}.pos" for m in fakes.MOTORS]
    actions = np.stack([frame["action"] for frame in session.tee.saved[0].frames])
    assert np.isfinite(actions).all() and np.ptp(actions, axis=0).max() > 0  # the policy moved it


def test_robot_io_error_stops_the_loop_with_a_named_error(calibrated) -> None:
    robot = make_lerobot_robot(arm_config(calibrated, fail_reads_after=10))
    engine = _act_engine(calibrated, {"observation.state": (6,), "observation.images.front": (3, 48, 64)})
    with built_session(config("--return_to_initial_position=false"), robot=robot, engine=engine) as session:
        wait_until(lambda: session.phase.value == "error", timeout=10, message="the error phase")
        error = session.status()["error"]
    assert error.startswith("HardwareError: fake_arm arm1: reading the robot failed: ConnectionError: "
                            "Failed to sync read")


def test_dagger_correction_with_a_lerobot_leader(calibrated) -> None:
    root = calibrated / "dagger"
    fakes.write_calibration(calibrated / "calib", "lead1")
    robot = make_lerobot_robot(arm_config(calibrated))
    teleop = make_lerobot_teleop(LeRobotTeleopConfig.model_validate(
        {"type": "fake_leader", "port": "/dev/fake1", "id": "lead1", "calibration_dir": str(calibrated / "calib")}))
    engine = _act_engine(calibrated, {"observation.state": (6,), "observation.images.front": (3, 48, 64)})
    cfg = config(*dataset_flags(root, "dagger"), "--return_to_initial_position=false", "--teleop.handover_max_s=0.3")
    with built_session(cfg, robot=robot, teleop=teleop, engine=engine) as session:
        time.sleep(0.4)
        assert session.submit("pause").accepted
        assert session.submit("takeover").accepted
        time.sleep(1.0)
        leader = np.array(list(teleop.get_action().values()))
        follower = robot.robot.goal
        assert np.abs(follower - leader).max() < 5.0  # handed over: the follower tracks the leader
        assert session.submit("handback").accepted
    (episode,) = session.tee.saved
    assert all(frame["intervention"] for frame in episode.frames) and len(episode.frames) > 15
    dataset = read_back(root, "tester/dagger_test")
    compare(dataset, session.tee.saved, 30.0, max_image_error=8.0, intervention=True)
