"""Access control (tokens, origins, roles) and the operator lease over a real server."""

from __future__ import annotations

import json

import httpx
import pytest
from helpers import config, live_server, wait_until
from rollout_console.api.auth import AccessPolicy
from rollout_console.client import Console, Unauthorized
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

OPERATOR = "operator-token-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdefgh"


def _lan_policy(port: int) -> AccessPolicy:
    # as if bound to a LAN address: tokens required
    return AccessPolicy.from_host("0.0.0.0", port, env={"ROLLOUT_CONSOLE_TOKEN": OPERATOR,
                                                        "ROLLOUT_CONSOLE_VIEWER_TOKEN": VIEWER})


@pytest.fixture(scope="module")
def lan():
    with live_server(config("--return_to_initial_position=false"), access=_lan_policy) as live:
        yield live


def test_tokens_are_required_off_loopback(lan) -> None:
    assert httpx.get(lan.url + "/healthz").status_code == 200  # monitoring stays open
    denied = httpx.get(lan.url + "/api/v1/status")
    assert denied.status_code == 401 and "token" in denied.json()["detail"]
    assert httpx.get(lan.url + "/api/v1/status", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = httpx.get(lan.url + "/api/v1/status", headers={"Authorization": f"Bearer {OPERATOR}"})
    assert ok.status_code == 200 and ok.json()["strategy"] == "base"


@pytest.mark.parametrize("page", ["/", "/tablet"])
def test_token_url_sets_a_cookie_and_drops_the_token_from_the_address(lan, page) -> None:
    with httpx.Client(base_url=lan.url) as client:
        first = client.get(f"{page}?token={OPERATOR}&kiosk=1")
        assert first.status_code == 303 and "token" not in first.headers["location"]
        assert first.headers["location"].endswith(f"{page}?kiosk=1")  # other parameters stay
        assert client.get("/api/v1/status").status_code == 200  # the cookie carries the token now
        assert client.get(first.headers["location"]).status_code == 200


def test_viewers_watch_and_may_only_estop(lan) -> None:
    with Console(lan.url, token=VIEWER) as viewer, Console(lan.url, token=OPERATOR) as operator:
        assert viewer.status().strategy == "base"
        with pytest.raises(Unauthorized, match="viewer") as refused:
            viewer.pause()
        assert refused.value.status == 403
        assert viewer.estop().phase == "estopped"
        with pytest.raises(Unauthorized, match="viewer") as refused:
            viewer.reset()  # a viewer may stop the robot, never clear the stop
        assert refused.value.status == 403
        assert operator.reset().phase == "paused"
        assert operator.resume().phase == "autonomous"


def test_foreign_origins_are_refused_for_commands_and_websockets(lan) -> None:
    headers = {"Authorization": f"Bearer {OPERATOR}", "Origin": "http://evil.example"}
    assert httpx.post(lan.url + "/api/v1/commands/pause", headers=headers).status_code == 403
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        with connect(lan.ws_url + f"/api/v1/ws?token={OPERATOR}", origin="http://evil.example") as ws:
            ws.recv(timeout=5)


def test_websocket_without_token_is_closed(lan) -> None:
    with pytest.raises(ConnectionClosed) as info, connect(lan.ws_url + "/api/v1/ws") as ws:
        ws.recv(timeout=5)
    assert info.value.rcvd.code == 1008 and "token" in info.value.rcvd.reason
    with connect(lan.ws_url + f"/api/v1/ws?token={OPERATOR}") as ws:
        assert json.loads(ws.recv(timeout=5))["role"] == "operator"


@pytest.fixture
def local():
    # a lease that cannot lapse while a loaded machine runs the test; lapses have their own fixture
    with live_server(config("--return_to_initial_position=false", "--lease.timeout_s=60",
                            "--lease.heartbeat_s=0.3")) as live:
        wait_until(lambda: live.session.phase.value == "autonomous", timeout=30)
        yield live


@pytest.fixture
def short_lease():
    with live_server(config("--return_to_initial_position=false", "--lease.timeout_s=1.0",
                            "--lease.heartbeat_s=0.3")) as live:
        wait_until(lambda: live.session.phase.value == "autonomous", timeout=30)
        yield live


def _ws_send(ws, message: dict) -> dict:
    ws.send(json.dumps(message))
    while True:
        reply = json.loads(ws.recv(timeout=30))
        if reply["type"] in ("ack", "lease", "error"):
            return reply


def test_holder_commands_others_get_423_naming_the_holder_and_estop_always_works(local) -> None:
    with connect(local.ws_url + "/api/v1/ws?client=tablet-a") as a:
        answer = _ws_send(a, {"type": "lease", "action": "acquire", "label": "tablet A", "id": 1})
        assert answer["ok"] and answer["holder"]["label"] == "tablet A"
        script = httpx.post(local.url + "/api/v1/commands/pause")
        assert script.status_code == 423 and "tablet A" in script.json()["detail"]
        other = httpx.post(local.url + "/api/v1/commands/pause", headers={"X-Client-Id": "laptop"})
        assert other.status_code == 423
        status = httpx.get(local.url + "/api/v1/status").json()
        assert status["lease"]["holder"]["label"] == "tablet A" and status["phase"] == "autonomous"
        assert _ws_send(a, {"type": "command", "name": "pause", "id": 2})["phase"] == "paused"
        assert httpx.post(local.url + "/api/v1/commands/estop").json()["phase"] == "estopped"
        refused = _ws_send(a, {"type": "command", "name": "resume", "id": 3})
        assert (refused["accepted"], refused["outcome"], refused["detail"]) == (
            False, "invalid_now", "clear the E-STOP first (reset)")
        assert _ws_send(a, {"type": "command", "name": "reset", "id": 4})["phase"] == "paused"
        again = _ws_send(a, {"type": "command", "name": "reset", "id": 5})
        assert (again["accepted"], again["outcome"]) == (False, "invalid_now")
        assert _ws_send(a, {"type": "command", "name": "resume", "id": 6})["phase"] == "autonomous"


def test_closing_the_holders_page_pauses_a_moving_robot(local) -> None:
    with connect(local.ws_url + "/api/v1/ws?client=tab-1") as ws:
        assert _ws_send(ws, {"type": "lease", "action": "acquire", "id": 1})["ok"]
    wait_until(lambda: local.session.phase.value == "paused", timeout=30, message="pause after the tab closed")
    assert httpx.get(local.url + "/api/v1/status").json()["lease"]["holder"] is None
    assert httpx.post(local.url + "/api/v1/commands/resume").status_code == 200  # free again: scripts may command


def test_lease_lapse_pauses_a_moving_robot(short_lease) -> None:
    # how fast (pause_within_s) is proven with a fake clock in tests/unit/api/test_lease.py and measured by
    # `make bench`; here: a holder that stops heartbeating loses control and the robot pauses
    with connect(short_lease.ws_url + "/api/v1/ws?client=tab-2") as ws:
        assert _ws_send(ws, {"type": "lease", "action": "acquire", "id": 1})["ok"]
        wait_until(lambda: short_lease.session.phase.value == "paused", timeout=30, message="pause on lapse")
    kinds = [e.data.get("kind") for e in short_lease.session.events.since(0) if e.kind == "lease"]
    assert "lapsed" in kinds


def _expires_in(live, client_id: str) -> float:
    holder = httpx.get(live.url + "/api/v1/lease", headers={"X-Client-Id": client_id}, timeout=30).json()["holder"]
    return float(holder["expires_in_s"])


def test_heartbeats_keep_control_and_hand_over_is_explicit(local) -> None:
    with connect(local.ws_url + "/api/v1/ws?client=tab-a") as a, connect(local.ws_url + "/api/v1/ws?client=tab-b") as b:
        assert _ws_send(a, {"type": "lease", "action": "acquire", "label": "A", "id": 1})["ok"]
        # a heartbeat renews the lease: its remaining time goes back up (no reply on success)
        low = wait_until(lambda: (left := _expires_in(local, "tab-a")) < 59.0 and left, timeout=30,
                         interval=0.05, message="time to pass on the lease")
        a.send(json.dumps({"type": "lease", "action": "heartbeat"}))
        wait_until(lambda: _expires_in(local, "tab-a") > low, timeout=30, message="the heartbeat renewal")
        assert local.session.phase.value == "autonomous"
        denied = _ws_send(b, {"type": "lease", "action": "acquire", "label": "B", "id": 2})
        assert not denied["ok"] and denied["status"] == 423
        assert _ws_send(b, {"type": "lease", "action": "request", "label": "B", "id": 3})["ok"] is False
        granted = _ws_send(a, {"type": "lease", "action": "respond", "accept": True, "id": 4})
        assert granted["ok"] and granted["holder"]["label"] == "B"
        assert local.session.phase.value == "autonomous", "an agreed hand-over does not pause"
