"""``--policy.type=remote`` options: validation, engine defaults, and the key staying out of configs."""

from __future__ import annotations

import pytest
from rollout_console.config import load_config
from rollout_console.errors import ConfigError

REMOTE = ["--policy.type=remote", "--policy.url=ws://10.0.0.5:8000"]


def test_remote_defaults_to_the_rtc_engine_and_an_explicit_type_wins() -> None:
    assert load_config(REMOTE).inference.type == "rtc"
    assert load_config([*REMOTE, "--inference.queue_threshold=20"]).inference.type == "rtc"
    assert load_config([*REMOTE, "--inference.type=sync"]).inference.type == "sync"
    assert load_config([]).inference.type == "sync"  # local policies keep their default


def test_guidance_left_unset_is_recorded_as_unset() -> None:
    options = load_config(REMOTE).inference.rtc
    assert "guidance" not in options.model_fields_set and options.splice == "auto"
    assert "guidance" in load_config([*REMOTE, "--inference.rtc.guidance=false"]).inference.rtc.model_fields_set


@pytest.mark.parametrize("url", ["http://host:8000", "host:8000", "ws://", "ws://user:secret@host:8000"])
def test_bad_urls_name_the_flag(url: str) -> None:
    with pytest.raises(ConfigError, match="--policy.url"):
        load_config(["--policy.type=remote", f"--policy.url={url}"])


def test_missing_url_is_an_error() -> None:
    with pytest.raises(ConfigError, match="--policy.url"):
        load_config(["--policy.type=remote"])


def test_rename_map_image_size_and_wss() -> None:
    config = load_config(["--policy.type=remote", "--policy.url=wss://gpu.example.org/policy",
                          "--policy.rename_map=observation.state=observation/state,task=prompt",
                          "--policy.image_size=224"])
    assert config.policy.rename_map == {"observation.state": "observation/state", "task": "prompt"}
    assert config.policy.image_size == (224, 224)
    assert load_config([*REMOTE, "--policy.image_size=240x320"]).policy.image_size == (240, 320)
    assert load_config([*REMOTE, "--policy.rename_map={observation.images.front: observation/image}"]) \
        .policy.rename_map == {"observation.images.front": "observation/image"}
    with pytest.raises(ConfigError, match="--policy.image_size"):
        load_config([*REMOTE, "--policy.image_size=big"])
    with pytest.raises(ConfigError, match="--policy.rename_map"):
        load_config([*REMOTE, "--policy.rename_map=nonsense"])


def test_there_is_no_api_key_flag_and_the_key_never_enters_the_config(monkeypatch) -> None:
    monkeypatch.setenv("ROLLOUT_POLICY_API_KEY", "s3cr3t-key")
    with pytest.raises(ConfigError, match="unknown option"):
        load_config([*REMOTE, "--policy.api_key=s3cr3t-key"])
    dumped = load_config(REMOTE).model_dump_json()
    assert "s3cr3t-key" not in dumped
