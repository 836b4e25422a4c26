"""The session history file: kept across restarts, written atomically, a broken file set aside."""

from __future__ import annotations

import json

from rollout_console.runtime.history import SessionHistory


def test_records_survive_a_restart_and_open_ones_end_as_shutdown(tmp_path) -> None:
    path = tmp_path / "h" / "sessions.json"
    first = SessionHistory(path)
    first.add({"id": "a", "started_at": 1.0, "ended_at": None, "end_cause": None})
    first.update("a", ended_at=2.0, end_cause="stopped")
    first.add({"id": "b", "started_at": 3.0, "ended_at": None, "end_cause": None})
    again = SessionHistory(path)  # the process ended while "b" ran
    assert [(r["id"], r["end_cause"], r["ended_at"]) for r in again.records()] == [("a", "stopped", 2.0),
                                                                                  ("b", "shutdown", 3.0)]
    assert json.loads(path.read_text())["sessions"][1]["end_cause"] == "shutdown"
    assert not list(path.parent.glob("*.tmp"))


def test_a_broken_file_is_set_aside_and_the_history_starts_empty(tmp_path) -> None:
    path = tmp_path / "sessions.json"
    path.write_text('{"sessions": [{"no id": 1}]}')
    history = SessionHistory(path)
    assert history.records() == [] and not path.exists()
    assert len(list(tmp_path.glob("sessions.bad-*"))) == 1
    history.add({"id": "c", "started_at": 1.0})
    assert SessionHistory(path).get("c") is not None


def test_an_unwritable_directory_keeps_the_history_in_memory(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    history = SessionHistory(blocker / "sessions.json")
    history.add({"id": "d", "started_at": 1.0})
    assert history.last() == {"id": "d", "started_at": 1.0}
