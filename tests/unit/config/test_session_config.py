"""The session part of the config: defaults from the command line, machine fields refused, paths confined."""

from __future__ import annotations

from pathlib import Path

import pytest
from rollout_console.config import load_config
from rollout_console.config.session import (
    MACHINE_FIELDS,
    SESSION_FIELDS,
    SessionConfigError,
    config_for_session,
    session_part,
)


def _cli(tmp_path: Path, *flags: str):
    (tmp_path / "policies" / "mine").mkdir(parents=True, exist_ok=True)
    return load_config([f"--server.data_dir={tmp_path / 'data'}", f"--server.policies_dir={tmp_path / 'policies'}",
                        "--fps=20", "--task=stack", *flags])


def _locs(excinfo: pytest.ExceptionInfo[SessionConfigError]) -> list[list]:
    return [issue["loc"] for issue in excinfo.value.issues]


def test_fields_left_out_take_the_command_lines_values(tmp_path) -> None:
    cli = _cli(tmp_path, "--robot.camera_width=160")
    config = config_for_session(cli, {"strategy": {"type": "sentry"}, "dataset": {"repo_id": "me/x"}})
    assert config.fps == 20 and config.task == "stack" and config.robot == cli.robot
    assert config.strategy.type == "sentry"
    assert set(session_part(config)) == set(SESSION_FIELDS)
    assert not set(SESSION_FIELDS) & set(MACHINE_FIELDS)


def test_a_dataset_without_a_root_gets_a_pinned_stamped_folder_under_the_data_dir(tmp_path) -> None:
    config = config_for_session(_cli(tmp_path), {"strategy": {"type": "sentry"}, "dataset": {"repo_id": "me/x"}})
    assert config.dataset is not None and config.dataset.stamp_repo_id is False
    assert config.dataset.repo_id.startswith("me/x_")
    assert Path(config.dataset.root) == (tmp_path / "data").resolve() / config.dataset.repo_id


@pytest.mark.parametrize("root", ["/etc/x", "../x", "a/../../x"])
def test_dataset_roots_outside_the_data_dir_are_refused(tmp_path, root: str) -> None:
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(_cli(tmp_path), {"strategy": {"type": "sentry"}, "dataset": {"repo_id": "me/x", "root": root}})
    assert _locs(excinfo) == [["body", "dataset", "root"]]


def test_policy_paths_are_built_ins_hub_ids_or_under_the_policies_dir(tmp_path) -> None:
    cli = _cli(tmp_path)
    assert config_for_session(cli, {"policy": {"path": "builtin:sim_flow"}}).policy.path == "builtin:sim_flow"
    assert config_for_session(cli, {"policy": {"type": "lerobot", "path": "lerobot/act_x"}}).policy.path == "lerobot/act_x"
    mine = config_for_session(cli, {"policy": {"path": "mine"}})
    assert mine.policy.path == str((tmp_path / "policies" / "mine").resolve())
    for path in ("/tmp", "../data", "~/x", "./not-there"):
        with pytest.raises(SessionConfigError) as excinfo:
            config_for_session(cli, {"policy": {"path": path}})
        assert _locs(excinfo) == [["body", "policy", "path"]], path


def test_machine_and_unknown_fields_are_named(tmp_path) -> None:
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(_cli(tmp_path), {"robot": {}, "lease": {}, "color": 1})
    assert _locs(excinfo) == [["body", "robot"], ["body", "lease"], ["body", "color"]]
    assert excinfo.value.issues[0]["type"] == "machine_field"


def test_model_rules_name_the_field_they_ask_for(tmp_path) -> None:
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(_cli(tmp_path), {"strategy": {"type": "dagger"}})
    assert ["body", "dataset", "repo_id"] in _locs(excinfo)
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(_cli(tmp_path), {"strategy": {"type": "sentry", "nope": 1}, "dataset": {"repo_id": "me/x"}})
    assert _locs(excinfo) == [["body", "strategy", "nope"]]


@pytest.mark.parametrize("path", ["builtin:../../etc", "builtin:/abs/ckpt", "builtin:a/b", "builtin:"])
def test_a_builtin_is_one_plain_name(tmp_path, path: str) -> None:
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(_cli(tmp_path), {"policy": {"path": path}})
    assert _locs(excinfo) == [["body", "policy", "path"]]


def test_a_folder_relative_to_the_servers_directory_is_not_taken_for_a_hub_id(tmp_path, monkeypatch) -> None:
    (tmp_path / "cwd" / "outputs" / "ckpt").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "cwd")
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(_cli(tmp_path), {"policy": {"type": "lerobot", "path": "outputs/ckpt"}})
    assert _locs(excinfo) == [["body", "policy", "path"]]
    assert "working directory" in excinfo.value.issues[0]["msg"]


def test_features_from_stays_under_the_policies_dir(tmp_path) -> None:
    cli = _cli(tmp_path)
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(cli, {"policy": {"type": "lerobot", "path": "lerobot/act_x", "features_from": "/etc"}})
    assert _locs(excinfo) == [["body", "policy", "features_from"]]
    inside = config_for_session(cli, {"policy": {"type": "lerobot", "path": "lerobot/act_x", "features_from": "mine"}})
    assert inside.policy.features_from == str((tmp_path / "policies" / "mine").resolve())  # type: ignore[union-attr]


@pytest.mark.parametrize("root", [".", "", ".rollout-console", ".rollout-console/x"])
def test_a_dataset_root_is_strictly_below_the_data_dir_and_outside_the_consoles_folder(tmp_path, root: str) -> None:
    if not root:
        root = str((tmp_path / "data").resolve())
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(_cli(tmp_path), {"strategy": {"type": "sentry"}, "dataset": {"repo_id": "me/x", "root": root}})
    assert _locs(excinfo) == [["body", "dataset", "root"]]


def test_an_evaluation_writes_results_under_the_data_dir_and_imports_no_detector_from_the_web(tmp_path) -> None:
    cli = _cli(tmp_path)
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(cli, {"strategy": {"type": "episodic", "output_dir": "/tmp/elsewhere"}})
    assert _locs(excinfo) == [["body", "strategy", "output_dir"]]
    config = config_for_session(cli, {"strategy": {"type": "episodic", "output_dir": "results/run1"}})
    assert config.strategy.output_dir == str((tmp_path / "data").resolve() / "results" / "run1")  # type: ignore[union-attr]
    with pytest.raises(SessionConfigError) as excinfo:
        config_for_session(cli, {"strategy": {"type": "episodic", "success_detector": "os:system"}})
    assert _locs(excinfo) == [["body", "strategy", "success_detector"]]
