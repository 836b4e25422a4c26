"""--strategy.type=episodic: policies replace --policy, impossible combinations are refused naming the entry,
recording is optional."""

from __future__ import annotations

import pytest
from rollout_console.config import load_config
from rollout_console.config.episodic import EpisodicStrategyConfig
from rollout_console.errors import ConfigError
from rollout_console.evaluation.detector import load_detector

POLICIES = '--strategy.policies=[{path: "builtin:sim_flow", name: v2, inference: {type: rtc}}, {type: scripted}]'


def test_entries_are_flat_policy_configs_with_their_own_inference() -> None:
    config = load_config(["--strategy.type=episodic", POLICIES])
    strategy = config.strategy
    assert isinstance(strategy, EpisodicStrategyConfig)
    first, second = strategy.policies
    assert (first.name, first.policy.type, first.policy.path, first.inference.type) == ("v2", "flow", "builtin:sim_flow", "rtc")
    assert (second.name, second.policy.type, second.inference) == (None, "scripted", None)


def test_policies_and_policy_together_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"--strategy.policies replaces --policy"):
        load_config(["--strategy.type=episodic", POLICIES, "--policy.type=scripted"])


def test_guided_rtc_with_the_scripted_expert_names_the_entry() -> None:
    with pytest.raises(ConfigError, match=r"--strategy.policies\[1\] \(scripted\).*guided"):
        load_config(["--strategy.type=episodic", '--strategy.policies=[{type: flow}, {type: scripted, inference: {type: rtc}}]'])
    with pytest.raises(ConfigError, match=r"--strategy.policies\[1\] \(scripted\).*--inference.type=rtc"):
        load_config(["--strategy.type=episodic", "--inference.type=rtc", '--strategy.policies=[{type: flow}, {type: scripted}]'])
    naive = '--strategy.policies=[{type: flow}, {type: scripted, inference: {type: rtc, rtc: {guidance: false}}}]'
    assert load_config(["--strategy.type=episodic", naive]).strategy.policies[1].inference.rtc.guidance is False


def test_unknown_entry_options_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"policies"):
        load_config(["--strategy.type=episodic", '--strategy.policies=[{type: scripted, pathh: x}]'])


def test_recording_is_optional_for_episodic_only(tmp_path) -> None:
    assert load_config(["--strategy.type=episodic"]).dataset is None
    config = load_config(["--strategy.type=episodic", "--dataset.repo_id=t/eval", f"--dataset.root={tmp_path}"])
    assert config.dataset is not None
    with pytest.raises(ConfigError, match="records nothing"):
        load_config(["--strategy.type=base", "--dataset.repo_id=t/eval"])


def test_a_detector_hook_is_imported_by_name() -> None:
    assert load_detector("json:loads") is not None
    with pytest.raises(ConfigError, match="--strategy.success_detector"):
        load_detector("no_such_module_xyz:detect")
    with pytest.raises(ConfigError, match="--strategy.success_detector"):
        load_detector("json")
