"""--robot.type / --teleop.type / --policy.path for LeRobot, from flags to a running console (and its CLI)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import fake_lerobot_devices as fakes
import httpx
import pytest
from helpers import REPO, config, dataset_flags, free_port, wait_until
from lerobot_helpers import built_session, compare, read_back, save_act
from rollout_console.config.lerobot import LeRobotPolicyConfig, LeRobotRobotConfig, LeRobotTeleopConfig
from rollout_console.errors import ConfigError
from rollout_console.runtime import build_session

HERE = Path(__file__).resolve().parent
CAMERAS = "--robot.cameras={front: {type: fake_camera, width: 64, height: 48, fps: 30}}"


@pytest.fixture(scope="module")
def fake_act(tmp_path_factory) -> Path:
    inputs = {"observation.state": (6,), "observation.images.front": (3, 48, 64)}
    return save_act(tmp_path_factory.mktemp("fake_act") / "act", inputs, action_dim=6, chunk_size=8)


def arm_flags(calibration: Path, *extra: str) -> list[str]:
    return ["--robot.type=fake_arm", "--robot.port=/dev/fake0", "--robot.id=arm1",
            f"--robot.calibration_dir={calibration}", CAMERAS, *extra]


def test_flags_select_lerobot_devices_and_policy(tmp_path, fake_act) -> None:
    cfg = config(*arm_flags(tmp_path), "--teleop.type=fake_leader", "--teleop.port=/dev/fake1", "--teleop.id=lead1",
                 f"--teleop.calibration_dir={tmp_path}", f"--policy.path={fake_act}", small=False)
    assert isinstance(cfg.robot, LeRobotRobotConfig) and cfg.robot.type == "fake_arm"
    assert cfg.robot.options["cameras"]["front"]["type"] == "fake_camera"
    assert isinstance(cfg.teleop, LeRobotTeleopConfig) and cfg.teleop.options["port"] == "/dev/fake1"
    assert isinstance(cfg.policy, LeRobotPolicyConfig) and cfg.policy.path == str(fake_act)
    assert config().robot.type == "sim"  # the default is still the simulator


def test_dagger_session_from_flags_only(tmp_path, fake_act) -> None:
    fakes.write_calibration(tmp_path, "arm1")
    fakes.write_calibration(tmp_path, "lead1")
    root = tmp_path / "ds"
    cfg = config(*arm_flags(tmp_path), "--teleop.type=fake_leader", "--teleop.port=/dev/fake1", "--teleop.id=lead1",
                 f"--teleop.calibration_dir={tmp_path}", "--teleop.handover_max_s=0.3", f"--policy.path={fake_act}",
                 *dataset_flags(root, "dagger", "--strategy.record_autonomous=true"),
                 "--return_to_initial_position=false", small=False)
    with built_session(cfg) as session:
        assert session.robot.name == "fake_arm" and session.ctx.engine.policy_name.startswith("lerobot:act")
        time.sleep(0.5)
        assert session.submit("pause").accepted and session.submit("takeover").accepted
        time.sleep(0.6)
        assert session.submit("handback").accepted and session.submit("resume").accepted
        time.sleep(0.3)
        assert session.submit("save", {"outcome": "success"}).accepted
        status = session.status()
        assert status["cameras"]["front"]["fps"] > 5 and status["inference"]["errors"] == 0
    episodes = session.tee.saved
    assert {bool(f["intervention"]) for e in episodes for f in e.frames} == {True, False}
    dataset = read_back(root, "tester/dagger_test")
    compare(dataset, episodes, 30.0, max_image_error=8.0, intervention=True)
    assert dataset.meta.robot_type == "fake_arm"


def test_unknown_option_fails_at_build_naming_the_flag(tmp_path) -> None:
    with pytest.raises(ConfigError) as error:
        build_session(config(*arm_flags(tmp_path, "--robot.prot=3"), small=False))
    assert error.value.flag == "--robot.prot"


def _cli(*flags: str, port: int | None = None) -> subprocess.Popen[str]:
    """The real CLI (``rollout_console.cli.main``) with the fake devices registered first."""
    code = ("import sys; import rollout_console.hardware.lerobot._torchvision_cpu; import fake_lerobot_devices; "
            "from rollout_console.cli import main; raise SystemExit(main(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
           "HF_HUB_OFFLINE": "1"}
    args = [sys.executable, "-c", code, f"--server.port={port or free_port()}", "--server.log_level=warning", *flags]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=REPO)


def test_cli_exit_codes_and_messages(tmp_path, fake_act) -> None:
    bad = _cli(*arm_flags(tmp_path, "--robot.speed=fast"), f"--policy.path={fake_act}")
    out, _ = bad.communicate(timeout=120)
    assert bad.returncode == 2 and "--robot.speed: Couldn't parse 'fast'" in out, out
    uncalibrated = _cli(*arm_flags(tmp_path), f"--policy.path={fake_act}")
    out, _ = uncalibrated.communicate(timeout=120)
    assert uncalibrated.returncode == 1, out
    assert "fake_arm arm1: not calibrated" in out
    assert "lerobot-calibrate --robot.type=fake_arm --robot.port=/dev/fake0 --robot.id=arm1" in out


def test_cli_serves_a_lerobot_robot(tmp_path, fake_act) -> None:
    fakes.write_calibration(tmp_path, "arm1")
    port = free_port()
    proc = _cli(*arm_flags(tmp_path), f"--policy.path={fake_act}", "--duration=0",
                "--server.exit_when_stopped=true", port=port)  # this test checks the exit after stop
    url = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read() if proc.stdout else "exited")
            try:
                return httpx.get(url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=60, message="the CLI")
        status = httpx.get(url + "/api/v1/status", timeout=5).json()
        assert status["robot"]["name"] == "fake_arm" and status["phase"] == "autonomous"
        wait_until(lambda: httpx.get(url + "/api/v1/status", timeout=5).json()["cameras"]["front"]["fps"] > 5,
                   message="camera fps")
        snapshot = httpx.get(url + "/api/v1/cameras/front/snapshot.jpg", timeout=5)  # the preview path
        assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
        assert abs(float(snapshot.headers["X-Capture-Time"]) - time.time()) < 2.0
        metrics = httpx.get(url + "/metrics", timeout=5)
        assert metrics.status_code == 200 and 'rollout_console_camera_fps{camera="front"}' in metrics.text
        assert httpx.post(url + "/api/v1/commands/stop", timeout=15).status_code == 200
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_compose_so101_command_is_a_valid_configuration() -> None:
    import re

    import yaml

    command = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())["services"]["so101"]["command"]
    flags = [re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", flag) for flag in command]  # compose's ${VAR:-default}
    cfg = config(*flags, small=False)
    assert isinstance(cfg.robot, LeRobotRobotConfig) and cfg.robot.type == "so101_follower"
    assert cfg.robot.options["cameras"]["front"]["index_or_path"] == "/dev/video0"
    assert isinstance(cfg.teleop, LeRobotTeleopConfig) and cfg.teleop.options["port"] == "/dev/ttyACM1"
    assert isinstance(cfg.policy, LeRobotPolicyConfig) and cfg.strategy.type == "dagger" and cfg.pedal.enabled
