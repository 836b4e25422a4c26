"""The client's sessions methods and its event stream across sessions and across a server restart, against
the real `rollout-console` command in a second process (a restart is a new process: a new ``server_id``)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from helpers import cli_server, free_port, wait_until
from rollout_console.client import RESYNC, CommandRejected, Console
from rollout_console.client.ctl import main as ctl_main


def _flags(tmp_path: Path) -> list[str]:
    (tmp_path / "policies").mkdir(exist_ok=True)
    return ["--return_duration_s=0.3", "--robot.camera_width=160", "--robot.camera_height=120",
            f"--server.data_dir={tmp_path / 'data'}", f"--server.policies_dir={tmp_path / 'policies'}"]


def _ctl(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = ctl_main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_start_list_and_refusals_of_sessions(tmp_path, capsys) -> None:
    with cli_server(*_flags(tmp_path)) as (url, _), Console(url, name="sessions-test") as console:
        first = console.wait_for("autonomous", timeout=60)
        assert first.server_id and first.session_id
        (record,) = console.sessions()
        assert record.id == first.session_id and record.current and record.end_cause is None
        with pytest.raises(CommandRejected) as busy:
            console.start_session({"strategy": {"type": "base"}})
        assert busy.value.status == 409
        config_file = tmp_path / "session.json"
        config_file.write_text(json.dumps({"strategy": {"type": "base"}, "fps": 15}))
        assert _ctl(capsys, url, "sessions", "start", f"--config={config_file}")[0] == 3  # still running

        console.stop()
        idle = console.wait_for("idle", timeout=60)
        assert idle.session_id is None and idle.loop is None and idle.server_id == first.server_id
        code, out, _ = _ctl(capsys, url, "status")
        assert code == 0 and "phase      idle" in out
        with pytest.raises(CommandRejected, match="no session is running") as nothing:
            console.pause()
        assert nothing.value.status == 409
        assert console.estop().phase == "idle"  # accepted, changes nothing
        with pytest.raises(CommandRejected) as bad:
            console.start_session({"strategy": {"type": "warp"}})
        assert bad.value.status == 422 and bad.value.issues[0]["loc"][1] == "strategy"
        with pytest.raises(CommandRejected) as machine:
            console.start_session({"robot": {"type": "sim"}})
        assert machine.value.status == 422 and "robot" in machine.value.reason
        assert _ctl(capsys, url, "sessions", "start", f"--config={tmp_path / 'missing.json'}")[0] == 2

        code, out, _ = _ctl(capsys, url, "--json", "sessions", "start", f"--config={config_file}")
        assert code == 0, out
        second = json.loads(out)
        assert second["current"] and second["config"]["fps"] == 15
        status = console.wait_for("autonomous", timeout=60)
        assert status.session_id == second["id"] and status.fps == 15
        records = console.sessions()
        assert [r.id for r in records] == [first.session_id, second["id"]]
        assert records[0].end_cause == "stopped" and not records[0].current and records[1].current
        code, out, _ = _ctl(capsys, url, "sessions", "list")
        assert code == 0 and "ended: stopped" in out and "running" in out
        assert console.session(second["id"]).strategy == "base"


def test_events_continue_across_sessions_and_resync_after_a_server_restart(tmp_path) -> None:
    port = free_port()
    events: list = []
    done = threading.Event()

    def listen(console: Console, since: int) -> None:
        for event in console.events(since=since):
            events.append(event)
            if event.data.get("source", "").endswith("after-restart"):
                done.set()
                return

    with cli_server(*_flags(tmp_path), port=port) as (url, _):
        console = Console(url, name="restart-test")
        first = console.wait_for("autonomous", timeout=60)
        listener = threading.Thread(target=listen, args=(console, first.event_seq), daemon=True)
        listener.start()
        console.stop()
        console.wait_for("idle", timeout=60)
        console.start_session({"strategy": {"type": "base"}})
        second = console.wait_for("autonomous", timeout=60)
        wait_until(lambda: any(e.kind == "session_started" for e in events), message="the second session's events")
        seqs = [e.seq for e in events]
        assert seqs == list(range(first.event_seq + 1, first.event_seq + 1 + len(seqs))), "one numbering, no gap"
        assert not any(e.kind == RESYNC for e in events), "same server: no resync"
        assert second.server_id == first.server_id
    with cli_server(*_flags(tmp_path), port=port) as (url, _):  # the same address, a new process
        restarted = console.wait_for("autonomous", timeout=60)
        assert restarted.server_id != first.server_id
        wait_until(lambda: any(e.kind == RESYNC for e in events), timeout=60, message="the resync notice")
        with Console(url, name="after-restart") as later:
            later.pause()
        assert done.wait(60), "events of the new server"
        notice = next(e for e in events if e.kind == RESYNC)
        assert notice.data["reason"] == "server_restarted" and notice.data["server"] == restarted.server_id
        after = events[events.index(notice) + 1:]
        assert after[0].seq == 1 and [e.seq for e in after] == list(range(1, len(after) + 1))
    listener.join(timeout=30)
    console.close()
