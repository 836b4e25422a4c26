"""Third-party LeRobot plugins are found the way LeRobot's own CLIs find them.

``register_third_party_plugins`` imports every installed distribution named ``lerobot_robot_*``,
``lerobot_camera_*``, ``lerobot_teleoperator_*``, ``lerobot_policy_*`` (or ``lerobot_env_*``). Here two
such distributions are "installed" as a ``.dist-info`` next to their package on PYTHONPATH: a robot plugin
(which registers a robot, a camera and a leader) and a policy plugin (a flow policy with RTC hooks). The
real CLI then resolves ``--robot.type=fake_arm`` with a ``fake_camera`` and loads a ``fakeflow``
checkpoint, and stops at the uncalibrated arm (exit 1); without the plugins the same flags are refused
as unknown types (exit 2).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fake_lerobot_policy.configuration_fakeflow import FakeFlowConfig
from fake_lerobot_policy.modeling_fakeflow import FakeFlowPolicy
from helpers import REPO, free_port
from lerobot.configs.types import FeatureType, PolicyFeature
from lerobot.policies.factory import make_pre_post_processors

HERE = Path(__file__).resolve().parent
CAMERAS = "--robot.cameras={front: {type: fake_camera, width: 64, height: 48, fps: 30}}"
PLUGINS = {
    "lerobot_robot_fakearm": "import fake_lerobot_devices  # registers fake_arm, fake_camera, fake_leader\n",
    "lerobot_policy_fakeflow": ("from fake_lerobot_policy import configuration_fakeflow, modeling_fakeflow, "
                                "processor_fakeflow  # registers fakeflow\n"),
}


def _install_plugins(site: Path) -> Path:
    for name, code in PLUGINS.items():
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text(code)
        info = site / f"{name}-0.1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    return site


@pytest.fixture(scope="module")
def fakeflow(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plugin_ckpt") / "fakeflow"
    cfg = FakeFlowConfig(input_features={"observation.state": PolicyFeature(FeatureType.STATE, (6,))},
                         output_features={"action": PolicyFeature(FeatureType.ACTION, (6,))}, device="cpu")
    stats = {"observation.state": {"mean": np.zeros(6, np.float32), "std": np.ones(6, np.float32)},
             "action": {"mean": np.zeros(6, np.float32), "std": np.ones(6, np.float32)}}
    pre, post = make_pre_post_processors(cfg, dataset_stats=stats)
    for part in (FakeFlowPolicy(cfg), pre, post):
        part.save_pretrained(out)
    return out


def _cli(tmp_path: Path, fakeflow: Path, pythonpath: list[Path]) -> subprocess.CompletedProcess[str]:
    flags = ["--robot.type=fake_arm", "--robot.port=/dev/fake0", "--robot.id=arm1",
             f"--robot.calibration_dir={tmp_path / 'calibration'}", CAMERAS, f"--policy.path={fakeflow}",
             f"--server.port={free_port()}"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(str(p) for p in pythonpath)}
    return subprocess.run([sys.executable, "-m", "rollout_console", *flags], capture_output=True, text=True,
                          timeout=180, env=env, cwd=REPO)


def test_plugins_are_discovered_like_lerobots_clis(tmp_path, fakeflow) -> None:
    site = _install_plugins(tmp_path / "site")
    found = _cli(tmp_path, fakeflow, [site, HERE])
    out = found.stdout + found.stderr
    assert found.returncode == 1, out  # built, policy loaded, then connecting the arm fails
    assert "fake_arm arm1: not calibrated" in out and "lerobot-calibrate --robot.type=fake_arm" in out
    assert "Traceback" not in out


def test_without_the_plugins_the_types_are_unknown(tmp_path, fakeflow) -> None:
    missing = _cli(tmp_path, fakeflow, [HERE])  # the modules are importable, but nothing installs them
    out = missing.stdout + missing.stderr
    assert missing.returncode == 2, out
    assert "--robot.type" in out and "unknown LeRobot robot type 'fake_arm'" in out
