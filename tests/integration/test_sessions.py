"""Sessions as a resource over a real server: start, stop, idle, start again; the history; server_id and seq."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from helpers import cli_server, config, live_server, wait_until
from rollout_console.api.auth import AccessPolicy
from rollout_console.recording.verify import verify_dataset
from websockets.sync.client import connect

OPERATOR = "operator-token-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdefgh"


def _flags(tmp_path: Path, *extra: str) -> list[str]:
    (tmp_path / "policies").mkdir(exist_ok=True)
    return ["--return_duration_s=0.3", f"--server.data_dir={tmp_path / 'data'}",
            f"--server.policies_dir={tmp_path / 'policies'}", *extra]


def _status(client: httpx.Client) -> dict:
    return client.get("/api/v1/status").json()


def _phase_is(client: httpx.Client, phase: str, timeout: float = 60) -> dict:
    return wait_until(lambda: (s := _status(client))["phase"] == phase and s, timeout=timeout, message=phase)


def _stop_to_idle(client: httpx.Client) -> dict:
    stop = client.post("/api/v1/commands/stop")
    assert stop.status_code == 200, stop.text
    return _phase_is(client, "idle")


def _issue_locs(response: httpx.Response) -> list[list]:
    assert response.status_code == 422, response.text
    return [issue["loc"] for issue in response.json()["detail"]]


def test_start_stop_and_start_another_strategy_policy_and_dataset(tmp_path) -> None:
    with live_server(config(*_flags(tmp_path))) as live, live.client() as c:
        host = live.server.config.app.state.host
        first = _phase_is(c, "autonomous")
        robot, leader = live.session.ctx.robot, live.session.ctx.teleop
        assert first["server_id"] == host.server_id and first["session_id"] == live.session.id
        busy = c.post("/api/v1/sessions", json={"strategy": {"type": "sentry"}})
        assert busy.status_code == 409 and "stop it first" in busy.json()["detail"]

        idle = _stop_to_idle(c)
        assert idle["session_id"] is None and idle["strategy"] is None and idle["loop"] is None
        assert idle["server_id"] == first["server_id"] and idle["available_commands"] == ["estop"]
        assert idle["last_session"]["id"] == live.session.id and idle["last_session"]["end_cause"] == "stopped"
        assert set(idle["robot"]["joints"]) == set(first["robot"]["joints"])  # read from the robot while idle
        assert c.get("/healthz").json() == {"ok": True, "phase": "idle", "version": c.get("/healthz").json()["version"]}
        estop = c.post("/api/v1/commands/estop")
        assert estop.status_code == 200 and estop.json()["phase"] == "idle"  # accepted, changes nothing
        pause = c.post("/api/v1/commands/pause")
        assert pause.status_code == 409 and pause.json()["detail"] == "no session is running; start one"
        reset = c.post("/api/v1/commands/reset")  # nothing to clear while idle
        assert reset.status_code == 409 and reset.json()["detail"] == "no session is running; start one"
        assert c.put("/api/v1/teleop", json={"gripper": 50}).status_code == 409
        assert robot.is_connected and leader.is_connected  # the hardware outlives the session

        body = {"strategy": {"type": "dagger"}, "policy": {"path": "builtin:sim_flow"}, "inference": {"type": "rtc"},
                "task": "put the cube on the target",
                "dataset": {"repo_id": "tester/second", "root": "second", "vcodec": "h264", "push_to_hub": False}}
        started = c.post("/api/v1/sessions", json=body)
        assert started.status_code == 201, started.text
        record = started.json()
        assert record["strategy"] == "dagger" and record["current"] and record["ended_at"] is None
        root = Path(record["dataset"]["root"])
        assert root == (tmp_path / "data" / "second").resolve()
        assert record["config"]["policy"]["path"] == "builtin:sim_flow" and record["config"]["task"] == body["task"]
        second = _phase_is(c, "autonomous")
        assert second["session_id"] == record["id"] != first["session_id"]
        assert second["strategy"] == "dagger" and second["policy"]["name"] == "flow:sim_flow"
        assert second["inference"]["engine"] == "rtc"
        assert host.session.ctx.robot is robot and host.session.ctx.teleop is leader  # not rebuilt, not reconnected
        assert c.get("/api/v1/config").json()["strategy"]["type"] == "dagger"

        assert c.post("/api/v1/commands/pause").json()["phase"] == "paused"
        assert c.post("/api/v1/commands/takeover").json()["phase"] == "correcting"
        wait_until(lambda: _status(c)["recording"]["frames"] >= 10, message="a correction")
        saved = c.post("/api/v1/commands/save", json={"outcome": "success"})
        assert saved.status_code == 200, saved.text
        assert c.get("/api/v1/episodes").json()["count"] == 1
        _stop_to_idle(c)
        assert c.get("/api/v1/episodes").json()["count"] == 1  # while idle: the last session's dataset
        assert verify_dataset(root).ok

        third = c.post("/api/v1/sessions", json={})  # fields left out: the command line's values
        assert third.status_code == 201 and third.json()["strategy"] == "base"
        assert _phase_is(c, "autonomous")["policy"]["name"] == live.session.ctx.engine.policy_name

        sessions = c.get("/api/v1/sessions").json()
        assert sessions["count"] == 3
        ids = [s["id"] for s in sessions["data"]]
        assert ids == [first["session_id"], record["id"], third.json()["id"]]
        assert [s["current"] for s in sessions["data"]] == [False, False, True]
        dagger = c.get(f"/api/v1/sessions/{record['id']}").json()
        assert dagger["end_cause"] == "stopped" and dagger["episodes_saved"] == 1 and dagger["ended_at"] is not None
        assert c.get("/api/v1/sessions/nope").status_code == 404

        events = c.get("/api/v1/events", params={"since": 0}).json()["data"]
        seqs = [e["seq"] for e in events]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # one count across sessions
        kinds = [e["kind"] for e in events if e["kind"] in ("session_started", "session_stopped", "server_idle")]
        assert kinds == ["session_started", "session_stopped", "server_idle"] * 2 + ["session_started"]


def test_bad_session_configs_are_refused_with_the_field_named(tmp_path) -> None:
    (tmp_path / "outside").mkdir()
    with live_server(config(*_flags(tmp_path))) as live, live.client() as c:
        _phase_is(c, "autonomous")
        _stop_to_idle(c)
        post = lambda body: c.post("/api/v1/sessions", json=body)
        assert _issue_locs(post({"robot": {"type": "sim"}})) == [["body", "robot"]]
        assert _issue_locs(post({"loop": {}, "server": {"port": 1}})) == [["body", "loop"], ["body", "server"]]
        assert "fixed by the command line" in post({"pedal": {}}).json()["detail"][0]["msg"]
        assert _issue_locs(post({"colour": "red"})) == [["body", "colour"]]
        assert _issue_locs(post({"strategy": {"type": "nope"}})) == [["body", "strategy", "type"]]
        assert _issue_locs(post({"fps": -1})) == [["body", "fps"]]
        assert ["body", "dataset", "repo_id"] in _issue_locs(post({"strategy": {"type": "dagger"}}))
        escape = {"strategy": {"type": "sentry"}, "dataset": {"repo_id": "t/x", "root": str(tmp_path / "outside")}}
        refused = post(escape)
        assert _issue_locs(refused) == [["body", "dataset", "root"]] and "--server.data_dir" in refused.text
        escape["dataset"]["root"] = "../outside"
        assert _issue_locs(post(escape)) == [["body", "dataset", "root"]]
        assert _issue_locs(post({"policy": {"path": str(tmp_path / "outside")}})) == [["body", "policy", "path"]]
        assert _issue_locs(post({"policy": {"path": "../outside"}})) == [["body", "policy", "path"]]
        assert _issue_locs(post({"policy": {"path": "no such/dir here"}})) == [["body", "policy", "path"]]
        assert c.post("/api/v1/sessions", content=b"[1]", headers={"content-type": "application/json"}).status_code == 422
        status = _status(c)
        assert status["phase"] == "idle" and c.get("/api/v1/sessions").json()["count"] == 1  # nothing changed
        assert not (tmp_path / "outside").joinpath("meta").exists()

        # a policy that fails to load after the dataset was opened: 422, and no dataset is left behind,
        # so the corrected request may use the same folder
        failing = {"strategy": {"type": "sentry"}, "policy": {"path": "builtin:no_such_checkpoint"},
                   "dataset": {"repo_id": "t/retry", "root": "retry"}}
        refused = post(failing)
        assert refused.status_code == 422, refused.text
        assert not (tmp_path / "data" / "retry").exists()
        assert c.get("/api/v1/sessions").json()["count"] == 1
        del failing["policy"]
        assert post(failing).status_code == 201
        _phase_is(c, "autonomous")


def test_only_an_operator_may_start_a_session(tmp_path) -> None:
    def lan(port: int) -> AccessPolicy:
        return AccessPolicy.from_host("0.0.0.0", port, env={"ROLLOUT_CONSOLE_TOKEN": OPERATOR,
                                                            "ROLLOUT_CONSOLE_VIEWER_TOKEN": VIEWER})

    operator = {"Authorization": f"Bearer {OPERATOR}"}
    with live_server(config(*_flags(tmp_path)), access=lan) as live, live.client() as c:
        _phase_is(httpx.Client(base_url=live.url, headers=operator), "autonomous")
        assert c.post("/api/v1/commands/stop", headers=operator).status_code == 200
        wait_until(lambda: c.get("/api/v1/status", headers=operator).json()["phase"] == "idle", message="idle")
        assert c.post("/api/v1/sessions", json={}).status_code == 401
        viewer = c.post("/api/v1/sessions", json={}, headers={"Authorization": f"Bearer {VIEWER}"})
        assert viewer.status_code == 403 and "viewer" in viewer.json()["detail"]
        assert c.get("/api/v1/sessions", headers={"Authorization": f"Bearer {VIEWER}"}).json()["count"] == 1
        held = c.post("/api/v1/lease/acquire", json={"label": "tablet by the robot"},
                      headers={**operator, "X-Client-Id": "tablet-1"})
        assert held.status_code == 200
        other = c.post("/api/v1/sessions", json={}, headers={**operator, "X-Client-Id": "laptop-2"})
        assert other.status_code == 423 and "holds control" in other.json()["detail"]
        mine = c.post("/api/v1/sessions", json={}, headers={**operator, "X-Client-Id": "tablet-1"})
        assert mine.status_code == 201


def test_previews_keep_working_while_idle(tmp_path) -> None:
    with live_server(config(*_flags(tmp_path))) as live, live.client() as c:
        _phase_is(c, "autonomous")
        _stop_to_idle(c)
        snapshot = c.get("/api/v1/cameras/front/snapshot.jpg")
        assert snapshot.status_code == 200 and snapshot.content[:2] == b"\xff\xd8"
        with connect(live.ws_url + "/api/v1/cameras/top/ws", open_timeout=20) as ws:
            packets = [ws.recv(timeout=20) for _ in range(5)]
        assert all(isinstance(p, bytes) and b"\xff\xd8" in p for p in packets)
        assert _status(c)["previews"]["top"]["encodes"] >= 5
        assert _status(c)["phase"] == "idle"
        metrics = c.get("/metrics").text
        assert 'rollout_console_session_phase{phase="idle"} 1.0' in metrics


def test_hello_carries_server_id_and_seq_counts_across_sessions(tmp_path) -> None:
    with live_server(config(*_flags(tmp_path))) as live, live.client() as c:
        running = _phase_is(c, "autonomous")
        with connect(live.ws_url + "/api/v1/ws?client=tab-1", open_timeout=20) as ws:
            hello = json.loads(ws.recv(timeout=20))
            assert hello["type"] == "hello" and hello["server_id"] == running["server_id"]
            assert hello["session_id"] == running["session_id"]
            ws.send(json.dumps({"type": "command", "name": "stop", "id": "s1"}))
            seen = []
            while not any(e.get("kind") == "server_idle" for e in seen):
                message = json.loads(ws.recv(timeout=60))
                if message["type"] == "event":
                    seen.append(message)
        last = seen[-1]["seq"]
        assert c.post("/api/v1/sessions", json={}).status_code == 201
        with connect(live.ws_url + f"/api/v1/ws?client=tab-1&since={last}", open_timeout=20) as ws:
            hello = json.loads(ws.recv(timeout=20))
            assert hello["server_id"] == running["server_id"] and hello["session_id"] not in (None, running["session_id"])
            replay = []
            while not any(e.get("kind") == "session_started" for e in replay):
                message = json.loads(ws.recv(timeout=30))
                if message["type"] == "event":
                    replay.append(message)
        assert replay[0]["seq"] == last + 1  # resync by sequence number: nothing missed, nothing restarted
        assert [e["seq"] for e in replay] == list(range(last + 1, last + 1 + len(replay)))


def test_history_survives_a_server_restart(tmp_path) -> None:
    flags = _flags(tmp_path)
    with live_server(config(*flags)) as first, first.client() as c:
        _phase_is(c, "autonomous")
        _stop_to_idle(c)
        assert c.post("/api/v1/sessions", json={"fps": 20}).status_code == 201
        _phase_is(c, "autonomous")
        old_server = _status(c)["server_id"]
    # the server ended while the second session ran: it is recorded as ended by the shutdown
    with live_server(config(*flags)) as second, second.client() as c:
        _phase_is(c, "autonomous")
        assert _status(c)["server_id"] != old_server
        records = c.get("/api/v1/sessions").json()["data"]
        assert len(records) == 3
        assert [r["end_cause"] for r in records] == ["stopped", "shutdown", None]
        assert [r["server_id"] for r in records[:2]] == [old_server] * 2 and records[1]["config"]["fps"] == 20
        assert [r["current"] for r in records] == [False, False, True]
    assert (tmp_path / "data" / ".rollout-console" / "sessions.json").exists()


def test_a_broken_history_file_is_set_aside(tmp_path) -> None:
    history = tmp_path / "data" / ".rollout-console" / "sessions.json"
    history.parent.mkdir(parents=True)
    history.write_text("{not json")
    with live_server(config(*_flags(tmp_path))) as live, live.client() as c:
        _phase_is(c, "autonomous")
        assert c.get("/api/v1/sessions").json()["count"] == 1
    assert json.loads(history.read_text())["sessions"][0]["end_cause"] == "shutdown"
    assert list(history.parent.glob("sessions.bad-*"))


@pytest.mark.parametrize("exit_when_stopped", [False, True])
def test_the_cli_stays_up_after_stop_unless_told_to_exit(tmp_path, exit_when_stopped: bool) -> None:
    flags = [*_flags(tmp_path), "--robot.camera_width=160", "--robot.camera_height=120"]
    if exit_when_stopped:
        flags.append("--server.exit_when_stopped=true")
    with cli_server(*flags) as (url, proc), httpx.Client(base_url=url, timeout=10) as c:
        _phase_is(c, "autonomous", timeout=120)
        assert c.post("/api/v1/commands/stop").status_code == 200
        if exit_when_stopped:
            assert proc.wait(timeout=60) == 0
            return
        _phase_is(c, "idle")
        assert c.post("/api/v1/sessions", json={"strategy": {"type": "base"}}).status_code == 201
        _phase_is(c, "autonomous")
        assert proc.poll() is None
