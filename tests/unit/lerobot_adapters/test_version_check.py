"""The supported LeRobot releases are checked before LeRobot is used (no LeRobot import needed)."""

from __future__ import annotations

import pytest
from rollout_console.errors import ConfigError
from rollout_console.hardware.lerobot import version
from rollout_console.hardware.lerobot.version import check_lerobot_version, parse_version


@pytest.mark.parametrize(("text", "parsed"), [("0.6.1", (0, 6, 1)), ("0.6.2.dev3", (0, 6, 2)), ("0.7.0rc1", (0, 7, 0)),
                                               ("0.6", (0, 6, 0)), ("1.0.0+local", (1, 0, 0))])
def test_parse_version(text, parsed) -> None:
    assert parse_version(text) == parsed


@pytest.mark.parametrize("good", ["0.6.0", "0.6.1", "0.6.9.dev1"])
def test_supported_releases_pass(good) -> None:
    assert check_lerobot_version("--policy.path", version=good) == good


@pytest.mark.parametrize("bad", ["0.4.4", "0.5.1", "0.7.0", "1.0.0"])
def test_other_releases_are_refused_naming_both_versions(bad) -> None:
    with pytest.raises(ConfigError) as error:
        check_lerobot_version("--robot.type", version=bad)
    message = str(error.value)
    assert error.value.flag == "--robot.type"
    assert f"LeRobot {bad} is installed" in message and "0.6.x" in message and "Python 3.12" in message


def test_missing_lerobot_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(version, "installed_lerobot_version", lambda: None)
    with pytest.raises(ConfigError, match=r"needs LeRobot 0\.6\.x .* not installed") as error:
        check_lerobot_version("--teleop.type")
    assert error.value.flag == "--teleop.type"
