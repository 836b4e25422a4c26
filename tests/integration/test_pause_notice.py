"""A pause the session makes on its own (here: the operator lease) keeps its reason in status.notice
until the operator acts, so every client, including one that connects later, can say why."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from helpers import config, dataset_flags, live_server, wait_until
from websockets.sync.client import connect


@pytest.fixture
def dagger(tmp_path: Path):
    flags = dataset_flags(tmp_path / "ds", "dagger", "--return_to_initial_position=false", "--lease.timeout_s=1.0",
                          "--lease.heartbeat_s=0.3", "--loop.max_observation_age_ms=10000")
    with live_server(config(*flags)) as live:
        wait_until(lambda: live.session.phase.value == "autonomous", timeout=30)
        yield live


def _reply(ws, kinds: tuple[str, ...]) -> dict:
    while True:
        message = json.loads(ws.recv(timeout=30))
        if message["type"] in kinds:
            return message


def _status(live) -> dict:
    return httpx.get(live.url + "/api/v1/status", timeout=10).json()


def test_a_lapse_pause_says_why_to_a_client_that_connects_later(dagger) -> None:
    with connect(dagger.ws_url + "/api/v1/ws?client=tab-quiet") as ws:
        ws.send(json.dumps({"type": "lease", "action": "acquire", "id": 1, "label": "quiet tab"}))
        assert _reply(ws, ("lease",))["ok"]
        # no heartbeats: the lease lapses and the robot pauses
        wait_until(lambda: dagger.session.phase.value == "paused", timeout=30, message="the lapse pause")
    notice = _status(dagger)["notice"]
    assert notice.startswith("paused: quiet tab lost control: no heartbeat"), notice
    with connect(dagger.ws_url + "/api/v1/ws?client=tab-later") as later:
        state = _reply(later, ("state",))
        assert state["phase"] == "paused" and state["notice"] == notice
    # a repeated pause changes nothing, the reason included
    assert httpx.post(dagger.url + "/api/v1/commands/pause").json()["detail"] == "already paused"
    assert _status(dagger)["notice"] == notice
    assert httpx.post(dagger.url + "/api/v1/commands/resume").status_code == 200
    assert _status(dagger)["notice"] is None


def test_a_takeover_ends_the_notice_and_a_plain_pause_never_sets_one(dagger) -> None:
    with connect(dagger.ws_url + "/api/v1/ws?client=tab-gone") as ws:
        ws.send(json.dumps({"type": "lease", "action": "acquire", "id": 1, "label": "gone tab"}))
        assert _reply(ws, ("lease",))["ok"]
    wait_until(lambda: dagger.session.phase.value == "paused", timeout=30, message="the release pause")
    assert "gone tab released control" in _status(dagger)["notice"]
    assert httpx.post(dagger.url + "/api/v1/commands/takeover").status_code == 200
    assert _status(dagger)["notice"] is None  # the operator acted on it
    assert httpx.post(dagger.url + "/api/v1/commands/handback").status_code == 200
    assert httpx.post(dagger.url + "/api/v1/commands/resume").status_code == 200
    assert httpx.post(dagger.url + "/api/v1/commands/pause").status_code == 200
    assert _status(dagger)["phase"] == "paused" and _status(dagger)["notice"] is None
    refused = httpx.post(dagger.url + "/api/v1/commands/pause", json={"notice": "fake"})
    assert refused.status_code == 422  # clients cannot write the notice
