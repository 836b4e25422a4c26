"""LeRobotRobot over a LeRobot-shaped arm: cameras taken over, no prompts, errors named, a real session."""

from __future__ import annotations

import builtins
import time

import numpy as np
import pytest
from duck_devices import JOINTS, DuckArm, DuckCamera, ManualCamera
from helpers import config, wait_until
from rollout_console.errors import DeviceNotConnectedError, HardwareError
from rollout_console.hardware.lerobot.cameras import LeRobotCameraSource
from rollout_console.hardware.lerobot.robot import LeRobotRobot
from rollout_console.hardware.protocols import CameraSource, Robot

OPTIONS = {"port": "/dev/ttyACM0", "id": "duck1"}


@pytest.fixture
def calibrated(tmp_path):
    (tmp_path / "duck1.json").write_text("{}")
    return tmp_path


def adapter(calibration_dir, cameras=None, **kwargs) -> tuple[LeRobotRobot, DuckArm]:
    arm = DuckArm(calibration_dir, cameras=cameras, **kwargs)
    return LeRobotRobot(arm, "duck_follower", OPTIONS, first_frame_timeout_s=2.0), arm


def test_protocol_features_and_camera_takeover(calibrated) -> None:
    cam = DuckCamera(width=32, height=24)
    robot, arm = adapter(calibrated, {"front": cam})
    assert isinstance(robot, Robot) and str(robot) == "duck_follower duck1" and robot.id == "duck1"
    assert robot.name == "duck_follower"
    assert robot.observation_features == {**{f"{j}.pos": float for j in JOINTS}, "front": (24, 32, 3)}
    assert arm.cameras == {}  # the robot no longer touches the camera: the adapter owns it
    source = robot.cameras["front"]
    assert isinstance(source, CameraSource) and isinstance(source, LeRobotCameraSource)
    robot.connect()
    try:
        assert arm.connect_calls == [False] and cam.is_connected
        first = source.wait_newer(0, 30.0)
        frame = source.wait_newer(first.seq, 30.0)
        assert frame is not None and frame.image.shape == (24, 32, 3)
        # on the monotonic clock (the stamp itself is checked in test_cameras.py)
        assert first.captured_at < frame.captured_at <= time.monotonic()
        obs = robot.get_observation()
        assert set(obs) == set(robot.observation_features)
        assert all(type(obs[f"{j}.pos"]) is float for j in JOINTS)
        assert obs["front"].shape == (24, 32, 3) and cam.read_latest_calls == 0
        wait_until(lambda: source.stats().fps > 0, timeout=30, message="camera fps")
    finally:
        robot.disconnect()
    assert not cam.is_connected and not robot.is_connected


def test_a_frozen_camera_ages_instead_of_failing_the_read(calibrated) -> None:
    cam = DuckCamera(freeze_after=3)
    robot, _ = adapter(calibrated, {"wrist": cam})
    robot.connect()
    try:
        source = robot.cameras["wrist"]
        # frozen after 3 frames: wait until the newest is older than LeRobot's 500 ms read_latest limit
        wait_until(lambda: cam.count == 3 and source.stats().frames == 3 and source.stats().age_ms > 500
                   and source.stats().errors >= 1, timeout=30, message="a frozen camera's frame ageing")
        obs = robot.get_observation()  # LeRobot's read_latest would raise "too old" here
        assert obs["wrist"].shape == (24, 32, 3)
        stats = source.stats()
        assert stats.age_ms > 500 and stats.frames == 3 and stats.errors >= 1
    finally:
        robot.disconnect()


def test_connect_never_prompts_and_names_the_calibration_command(tmp_path, monkeypatch) -> None:
    asked = []

    def stub(prompt=""):
        asked.append(prompt)
        return ""

    monkeypatch.setattr(builtins, "input", stub)
    robot, arm = adapter(tmp_path, {"front": DuckCamera()})  # no calibration file
    with pytest.raises(HardwareError) as error:
        robot.connect()
    message = str(error.value)
    assert message.startswith("duck_follower duck1: not calibrated")
    assert "lerobot-calibrate --robot.type=duck_follower --robot.port=/dev/ttyACM0 --robot.id=duck1" in message
    assert asked == [] and arm.connect_calls == [False]
    assert not arm.is_connected and not robot.is_connected  # released again
    assert builtins.input is stub  # the guard put back whatever input() was


def test_a_prompt_during_connect_is_refused(calibrated) -> None:
    robot, arm = adapter(calibrated)
    original = arm.connect
    arm.connect = lambda calibrate=True: (original(calibrate), arm.calibrate())  # asks even when told not to
    with pytest.raises(HardwareError, match=r"asked a question on the terminal \('Move duck1 to the middle"):
        robot.connect()
    assert not arm.is_connected


def test_io_errors_become_hardware_errors_naming_the_robot(calibrated) -> None:
    robot, arm = adapter(calibrated, fail_connect=ConnectionError("Could not connect on port '/dev/ttyACM0'"))
    with pytest.raises(HardwareError, match=r"^duck_follower duck1: connecting failed: ConnectionError: "
                                            r"Could not connect on port"):
        robot.connect()
    robot, arm = adapter(calibrated)
    with pytest.raises(DeviceNotConnectedError, match="duck_follower duck1: not connected"):
        robot.get_observation()
    robot.connect()
    arm.fail_reads = RuntimeError("Failed to sync read 'Present_Position' on ids=[1, 2]")
    with pytest.raises(HardwareError, match=r"duck1: reading the robot failed: RuntimeError: Failed to sync read"):
        robot.get_observation()
    arm._bus = False  # the bus dropped: LeRobot raises its DeviceNotConnectedError
    with pytest.raises(DeviceNotConnectedError, match="sending the action failed: not connected"):
        robot.send_action({f"{j}.pos": 0.0 for j in JOINTS})


def test_send_action_returns_what_the_robot_sent(calibrated) -> None:
    robot, arm = adapter(calibrated)
    robot.connect()
    arm.max_step = 5.0
    sent = robot.send_action({f"{j}.pos": 20.0 for j in JOINTS})
    assert sent == {f"{j}.pos": 5.0 for j in JOINTS} and all(type(v) is float for v in sent.values())
    with pytest.raises(HardwareError, match="unknown action keys"):
        robot.send_action({"elbow.vel": 1.0})
    robot.disconnect()


class _Bimanual(DuckArm):
    """Cameras under other names than its image features (like LeRobot's bi_so_follower)."""

    def __init__(self, calibration_dir, cam) -> None:
        super().__init__(calibration_dir)
        self.left_cam = cam
        self.cameras = {"top": cam}  # compatibility dict, names differ from the features

    @property
    def observation_features(self) -> dict:
        return {**super().observation_features, "left_top": (24, 32, 3)}

    def connect(self, calibrate: bool = True) -> None:
        super().connect(calibrate)

    def get_observation(self) -> dict:
        obs = super().get_observation()
        obs["left_top"] = obs.pop("top")
        return obs


def test_cameras_the_robot_reads_itself_are_published_from_observations(calibrated) -> None:
    cam = ManualCamera()  # frames come when the test delivers them
    arm = _Bimanual(calibrated, cam)
    robot = LeRobotRobot(arm, "duck_bimanual", OPTIONS)
    assert arm.cameras == {"top": cam}  # not taken over: the names do not match the features
    source = robot.cameras["left_top"]
    robot.connect()
    try:
        assert source.latest() is None
        cam.deliver()
        robot.get_observation()
        frame = source.latest()
        assert frame is not None and frame.image.shape == (24, 32, 3) and frame.seq == 1
        robot.get_observation()  # the same frame again is not a new frame
        assert source.latest().seq == 1
        cam.deliver()
        robot.get_observation()
        assert source.latest().seq == 2
    finally:
        robot.disconnect()


class _HoldPolicy:
    """Holds the arm at a fixed pose (the sim's scripted expert needs the sim's task state)."""

    name = "hold"
    chunk_size = 4

    def __init__(self, action_names) -> None:
        self.action_names = tuple(action_names)
        self.calls = 0

    def reset(self) -> None:
        pass

    def predict_chunk(self, observation):
        self.calls += 1
        assert observation["observation.images.front"].shape == (24, 32, 3)
        return np.full((self.chunk_size, len(self.action_names)), 12.5, dtype=np.float32)


def test_a_real_session_runs_on_the_adapter(calibrated, monkeypatch) -> None:
    """config -> adapter -> ThreadSafeRobot -> Session ticks: observe, act, stop, release."""
    from rollout_console.config.inference import SyncInferenceConfig
    from rollout_console.inference.factory import build_engine_for
    from rollout_console.runtime import builder

    cam = DuckCamera()
    robot, arm = adapter(calibrated, {"front": cam})
    policy = _HoldPolicy(robot.action_features)
    monkeypatch.setattr(builder, "make_robot", lambda cfg: robot)
    monkeypatch.setattr(builder, "make_teleop", lambda cfg: None)
    engine = build_engine_for(SyncInferenceConfig(), policy, 30)
    monkeypatch.setattr(builder, "build_engine", lambda cfg, layout: engine)
    session = builder.build_session(config("--return_to_initial_position=false"))
    assert session.ctx.layout.camera_names == ("front",)
    session.start()
    try:
        wait_until(lambda: session.loop.stats.ticks > 20, timeout=30, message="ticks")
        assert session.phase.value == "autonomous" and policy.calls >= 3
        np.testing.assert_allclose(arm.goal, 12.5)
        status = session.status()
        assert status["robot"]["name"] == "duck_follower" and status["cameras"]["front"]["fps"] > 0
    finally:
        session.shutdown()
    assert session.finished and not cam.is_connected and not arm.is_connected
