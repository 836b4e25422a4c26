"""PedalConfig, LeaseConfig and AuthConfig: validation and flag naming."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field, ValidationError
from rollout_console.config.base import StrictModel
from rollout_console.config.flags import validation_error_to_config_error
from rollout_console.config.inputs import (
    DEFAULT_PEDAL_PATH,
    AuthConfig,
    LeaseConfig,
    PedalConfig,
    normalize_origin,
)


class Root(StrictModel):
    """How the integrator mounts these models (so flags read --pedal.*, --lease.*, --server.auth.*)."""

    pedal: PedalConfig = Field(default_factory=PedalConfig)
    lease: LeaseConfig = Field(default_factory=LeaseConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)


def flag_error(raw: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as info:
        Root.model_validate(raw)
    return str(validation_error_to_config_error(info.value, raw))


def test_pedal_defaults_match_lerobot() -> None:
    config = PedalConfig()
    assert not config.enabled
    assert config.device_path == DEFAULT_PEDAL_PATH
    assert config.codes() == {"KEY_A": "pause_resume", "KEY_B": "takeover_handback", "KEY_C": "upload"}
    assert config.grab and config.retry_s == 2.0


def test_giving_a_device_path_enables_the_pedal() -> None:
    assert PedalConfig.model_validate({"device_path": "/dev/input/event7"}).enabled
    assert not PedalConfig.model_validate({"device_path": "/dev/input/event7", "enabled": "false"}).enabled
    assert PedalConfig.model_validate({"enabled": "true"}).device_path == DEFAULT_PEDAL_PATH


def test_key_names_are_normalised() -> None:
    config = PedalConfig.model_validate(
        {"pause_resume": "space", "takeover_handback": "btn_0", "upload": "KEY_ENTER"}
    )
    assert config.codes() == {
        "KEY_SPACE": "pause_resume",
        "BTN_0": "takeover_handback",
        "KEY_ENTER": "upload",
    }


def test_unknown_key_name_names_the_flag_and_suggests() -> None:
    message = flag_error({"pedal": {"pause_resume": "KEY_AA"}})
    assert message.startswith("--pedal.pause_resume: 'KEY_AA' is not an evdev key name")
    assert "did you mean KEY_A" in message


def test_non_key_code_is_refused() -> None:
    message = flag_error({"pedal": {"upload": "REL_X"}})
    assert message.startswith("--pedal.upload: ")


def test_two_pedals_cannot_share_a_code() -> None:
    message = flag_error({"pedal": {"upload": "KEY_A"}})
    assert message.startswith("--pedal.upload: KEY_A is already the code of --pedal.pause_resume")


def test_an_action_can_be_disabled() -> None:
    config = PedalConfig.model_validate({"upload": None})
    assert "upload" not in config.codes().values()


def test_retry_must_be_positive() -> None:
    assert flag_error({"pedal": {"retry_s": "0"}}).startswith("--pedal.retry_s: ")


def test_lease_defaults_and_check_interval() -> None:
    config = LeaseConfig()
    assert (config.timeout_s, config.heartbeat_s, config.pause_within_s) == (1.5, 0.5, 0.5)
    assert config.pause_on_lapse and config.pause_on_release and config.pause_on_force
    assert config.check_interval_s == pytest.approx(0.05)


def test_heartbeat_must_fit_under_the_timeout() -> None:
    message = flag_error({"lease": {"timeout_s": "1", "heartbeat_s": "1"}})
    assert message.startswith("--lease.heartbeat_s: must leave room under --lease.timeout_s (1 s)")
    assert LeaseConfig(timeout_s=1.5, heartbeat_s=1.0).heartbeat_s == 1.0


def test_origins_are_normalised_and_checked() -> None:
    config = AuthConfig.model_validate({"allowed_origins": "https://Robot.Lab:443, http://10.0.0.5:8000"})
    assert config.allowed_origins == ["https://robot.lab", "http://10.0.0.5:8000"]
    assert normalize_origin("http://[::1]:80") == "http://[::1]"
    for bad in ("robot.lab", "ftp://robot.lab", "https://robot.lab/path", "null", "https://u:p@robot.lab"):
        with pytest.raises(ValueError):
            normalize_origin(bad)
    assert flag_error({"auth": {"allowed_origins": "ws://x"}}).startswith("--auth.allowed_origins: ")


def test_allowed_hosts_are_lower_cased_and_checked() -> None:
    assert AuthConfig.model_validate({"allowed_hosts": "Robot.Lab,proxy:8443"}).allowed_hosts == [
        "robot.lab",
        "proxy:8443",
    ]
    assert flag_error({"auth": {"allowed_hosts": ["http://x/"]}}).startswith("--auth.allowed_hosts: ")
