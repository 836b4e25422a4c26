"""Client names over a real server: ?name= on the control socket, numbered on collision, the lease action
`name`, and the name freed when the client's last socket closes."""

from __future__ import annotations

import json

import httpx
import pytest
from helpers import config, live_server, wait_until
from websockets.sync.client import connect


@pytest.fixture(scope="module")
def live():
    with live_server(config("--return_to_initial_position=false", "--lease.timeout_s=60")) as server:
        yield server


def _hello(ws) -> dict:
    message = json.loads(ws.recv(timeout=30))
    assert message["type"] == "hello"
    return message


def _reply(ws, message: dict) -> dict:
    ws.send(json.dumps(message))
    while True:
        answer = json.loads(ws.recv(timeout=30))
        if answer["type"] in ("lease", "error"):
            return answer


def _state(ws) -> dict:
    while True:
        message = json.loads(ws.recv(timeout=30))
        if message["type"] == "state":
            return message


def test_names_over_the_control_socket(live) -> None:
    url = live.ws_url + "/api/v1/ws?client={}&name={}"
    with connect(url.format("tab-a", "iPad%20%C2%B7%20Safari")) as a, \
            connect(url.format("tab-b", "iPad%20%C2%B7%20Safari")) as b:
        assert _hello(a)["name"] == "iPad · Safari"
        assert _hello(b)["name"] == "iPad · Safari (2)"
        assert _state(b)["lease"]["name"] == "iPad · Safari (2)"
        taken = _reply(b, {"type": "lease", "action": "acquire", "label": "iPad · Safari", "id": 1})
        assert taken["ok"] and taken["holder"]["label"] == "iPad · Safari (2)"
        assert httpx.get(live.url + "/api/v1/lease").json()["holder"]["label"] == "iPad · Safari (2)"
        renamed = _reply(b, {"type": "lease", "action": "name", "label": "Tablet by the arm", "id": 2})
        assert renamed["ok"] and renamed["name"] == "Tablet by the arm"
        assert renamed["holder"]["label"] == "Tablet by the arm"  # the holder's name follows at once
        bad = _reply(a, {"type": "lease", "action": "name", "label": 5, "id": 3})
        assert not bad["ok"] and bad["status"] == 422
        assert _reply(b, {"type": "lease", "action": "release", "id": 4})["ok"]
    # both sockets closed: "iPad · Safari" is free again
    def free() -> bool:
        with connect(url.format("tab-c", "iPad%20%C2%B7%20Safari")) as c:
            return _hello(c)["name"] == "iPad · Safari"

    wait_until(free, timeout=30, interval=0.2, message="the name freed once its sockets closed")
    events = httpx.get(live.url + "/api/v1/events?since=0").json()["data"]
    details = [e["data"]["detail"] for e in events if e["kind"] == "lease"]
    assert "iPad · Safari (2) took control" in details and "Tablet by the arm released control" in details
