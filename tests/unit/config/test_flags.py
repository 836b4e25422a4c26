"""Dotted flags, config files, error naming and --help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rollout_console.config import flag_names, help_text, load_config
from rollout_console.errors import ConfigError


def test_defaults_are_the_sim_base_sync_scripted_session() -> None:
    cfg = load_config([])
    assert (cfg.robot.type, cfg.strategy.type, cfg.inference.type, cfg.policy.type) == ("sim", "base", "sync", "scripted")
    assert cfg.fps == 30 and cfg.duration == 0 and cfg.server.host == "127.0.0.1" and cfg.server.port == 8000
    assert cfg.robot.cameras == ["front", "top"]
    assert (cfg.robot.camera_width, cfg.robot.camera_height, cfg.robot.camera_fps) == (640, 480, 30)


def test_dotted_flags_are_typed_and_nested() -> None:
    cfg = load_config(["--robot.type=sim", "--fps=50", "--duration=2.5", "--task=pick the cube",
                       "--server.port=9001", "--robot.cameras=front,top,side", "--return_to_initial_position=false"])
    assert cfg.fps == 50.0 and cfg.duration == 2.5 and cfg.task == "pick the cube"
    assert cfg.server.port == 9001
    assert cfg.robot.cameras == ["front", "top", "side"]
    assert cfg.return_to_initial_position is False


def test_space_separated_values_and_yaml_lists() -> None:
    cfg = load_config(["--fps", "20", "--robot.cameras=[top]"])
    assert cfg.fps == 20 and cfg.robot.cameras == ["top"]


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_config_file_is_overridden_by_flags(tmp_path, suffix) -> None:
    data = {"fps": 15, "task": "from file", "robot": {"seed": 7}}
    path = tmp_path / f"cfg{suffix}"
    path.write_text(json.dumps(data))  # JSON is valid YAML too
    cfg = load_config([f"--config={path}", "--task=from flag"])
    assert cfg.fps == 15 and cfg.robot.seed == 7 and cfg.task == "from flag"


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--fps=abc"], "--fps"),
        (["--fps=-1"], "--fps"),
        (["--robot.camera_width=5"], "--robot.camera_width"),
        (["--robot.cameras=front,nadir"], "--robot.cameras"),
        (["--strategy.type=teleport"], "--strategy.type"),
        (["--server.port=70000"], "--server.port"),
    ],
)
def test_bad_values_name_the_flag(argv, flag) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(argv)
    assert str(info.value).startswith(flag)


def test_unknown_flag_is_an_error_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(["--robot.sead=3"])
    text = str(info.value)
    assert text.startswith("--robot.sead") and "unknown option" in text and "--robot.seed" in text


@pytest.mark.parametrize("argv", [["fps=3"], ["--fps"], ["--bad..name=1"]])
def test_malformed_arguments(argv) -> None:
    with pytest.raises(ConfigError):
        load_config(argv)


def test_unreadable_config_file_names_config_flag(tmp_path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config([f"--config={tmp_path / 'missing.yaml'}"])
    assert str(info.value).startswith("--config")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config([f"--config={bad}"])


def test_help_lists_every_option_with_its_default() -> None:
    text = help_text()
    for name in flag_names():
        if not name.endswith(".*"):
            assert name in text, name
    assert "--fps=FLOAT" in text and "[30.0]" in text
    assert "--server.host=STR" in text and "[127.0.0.1]" in text


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rollout_console", *args], capture_output=True, text=True, timeout=60)


def test_cli_exits_2_on_bad_flags_before_connecting() -> None:
    result = _cli("--fps=fast")
    assert result.returncode == 2
    assert "--fps" in result.stderr and "Traceback" not in result.stderr
    result = _cli("--robot.tipe=sim")
    assert result.returncode == 2 and "--robot.tipe" in result.stderr and "--robot.type" in result.stderr


def test_cli_help_exits_0() -> None:
    result = _cli("--help")
    assert result.returncode == 0 and "--strategy.type" in result.stdout
