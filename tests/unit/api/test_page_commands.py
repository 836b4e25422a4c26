"""The pages' command groups (one order for the desktop bar and the tablet) and the stop confirmation's
sentences, from the session's configuration."""

from __future__ import annotations

from types import SimpleNamespace

from helpers import config
from rollout_console.api.page_commands import COMMAND_GROUPS, command_groups, stop_plan
from rollout_console.protocol.commands import COMMAND_NAMES


def test_every_command_but_estop_and_exclude_has_a_group() -> None:
    grouped = [name for _, names in COMMAND_GROUPS for name in names]
    assert len(grouped) == len(set(grouped))
    assert set(COMMAND_NAMES) - set(grouped) == {"estop", "exclude"}


def test_groups_keep_the_order_and_leave_out_what_the_strategy_lacks() -> None:
    dagger = ["pause", "resume", "takeover", "handback", "save", "discard", "upload", "stop", "estop", "reset"]
    assert command_groups(dagger) == [("Robot", ["pause", "resume", "reset"]),
                                      ("Correction", ["takeover", "handback"]),
                                      ("Episode", ["save", "discard"]), ("Data", ["upload"]),
                                      ("Session", ["stop"])]
    assert command_groups(["stop", "estop"]) == [("Session", ["stop"])]
    # a command no group names still gets a button, last
    assert command_groups(["pause", "newthing", "estop"]) == [("Robot", ["pause"]), ("More", ["newthing"])]


def _session(strategy: str, *flags: str, records: bool = False, repo_id: str = "me/data") -> SimpleNamespace:
    recording = SimpleNamespace(recorder=SimpleNamespace(repo_id=repo_id)) if records else None
    return SimpleNamespace(config=config(*flags), recording=recording, strategy=SimpleNamespace(name=strategy))


def test_stop_plan_says_where_the_arm_goes_and_what_comes_next() -> None:
    plan = stop_plan(_session("base", "--return_duration_s=2.5"))
    assert plan["arm"] == "The arm moves back to where it started (about 2.5 s)."
    assert "never moved home" in plan["arm_estopped"]
    assert plan["data"] == ["Nothing is recorded in this session."]
    assert plan["next"].startswith("Then this page shows New session")
    plan = stop_plan(_session("base", "--return_to_initial_position=false", "--server.exit_when_stopped=true"))
    assert plan["arm"] == "The arm stays where it is (--return_to_initial_position=false)."
    assert plan["next"].startswith("Then the console exits")


def test_stop_plan_says_what_becomes_of_the_episode_and_the_dataset(tmp_path) -> None:
    flags = ["--strategy.type=sentry", "--dataset.repo_id=me/data", f"--dataset.root={tmp_path}"]
    uploads = stop_plan(_session("sentry", *flags, records=True, repo_id="me/data_1"))
    assert uploads["data"] == ["The episode in progress is saved.",
                               "Pending saves finish; the dataset me/data_1 is closed and uploaded to the Hub."]
    local = stop_plan(_session("highlight", *flags, "--dataset.push_to_hub=false", records=True))
    assert local["data"][0].startswith("A marked episode in progress is saved")
    assert local["data"][1].endswith("is closed (it stays on this computer: uploads are off).")
