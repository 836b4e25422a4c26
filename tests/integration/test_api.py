"""The HTTP API against a real uvicorn server on loopback, serving a real session on the sim robot."""

from __future__ import annotations

import pytest
from helpers import config, live_server, wait_until
from rollout_console.client import CommandRejected, Console, NotFound


@pytest.fixture(scope="module")
def server():
    with live_server(config("--return_duration_s=0.5")) as live:
        yield live


@pytest.fixture
def client(server):
    with server.client() as c:
        wait_until(lambda: c.get("/api/v1/status").json()["phase"] == "autonomous", message="autonomous")
        yield c
        phase = c.get("/api/v1/status").json()["phase"]
        if phase == "estopped":
            phase = c.post("/api/v1/commands/reset").json()["phase"]
        if phase == "paused":
            c.post("/api/v1/commands/resume")


@pytest.fixture
def console(server, client):
    with Console(server.url, name="api-test") as console:
        yield console


def test_health_config_cameras(client) -> None:
    health = client.get("/healthz").json()
    assert health["ok"] is True and health["phase"] == "autonomous"
    cfg = client.get("/api/v1/config").json()
    assert cfg["robot"]["type"] == "sim" and cfg["strategy"]["type"] == "base" and cfg["fps"] == 30
    assert cfg["server"]["host"] == "127.0.0.1"
    cams = client.get("/api/v1/cameras").json()
    assert [c["name"] for c in cams] == ["front", "top"]
    assert cams[0]["width"] == 160 and cams[0]["stream"] == "/api/v1/cameras/front/ws"


def test_status_has_every_documented_field(client) -> None:
    wait_until(lambda: client.get("/api/v1/status").json()["loop"]["measured_hz"], message="rate")
    s = client.get("/api/v1/status").json()
    assert s["strategy"] == "base" and s["phase"] == "autonomous" and s["fps"] == 30
    assert set(s["loop"]) >= {"measured_hz", "lateness_ms", "overruns", "ticks"}
    assert set(s["loop"]["lateness_ms"]) == {"p50", "p99", "max"}
    assert len(s["robot"]["joints"]) == 6 and all(k.endswith(".pos") for k in s["robot"]["joints"])
    for cam in ("front", "top"):
        assert set(s["cameras"][cam]) >= {"fps", "age_ms", "width", "height"}
    assert s["policy"]["name"] == "scripted_expert" and set(s["policy"]["latency_ms"]) == {"p50", "p95"}
    assert s["error"] is None


def test_every_command_path(client, console) -> None:
    # the wire contract of an applied command, byte for byte; behaviour below goes through the client
    ok = client.post("/api/v1/commands/pause")
    assert ok.status_code == 200 and ok.json() == {"accepted": True, "phase": "paused", "detail": None,
                                                "outcome": "applied"}
    assert console.pause().detail == "already paused"
    assert console.resume().phase == "autonomous"
    for name in ("takeover", "handback", "mark", "save", "discard", "upload"):
        with pytest.raises(CommandRejected, match="not available with the base strategy") as refused:
            console.command(name)
        assert refused.value.status == 409, name
    with pytest.raises(NotFound, match="unknown command"):
        console.command("teleport")
    with pytest.raises(CommandRejected) as bad_body:
        console.command("pause", speed=3)
    assert bad_body.value.status == 422
    bad_json = client.post("/api/v1/commands/pause", content=b"{not json", headers={"content-type": "application/json"})
    assert bad_json.status_code == 422
    assert console.status().phase == "autonomous", "refused commands changed nothing"
    assert console.estop().phase == "estopped"
    with pytest.raises(CommandRejected):
        console.pause()
    resume = client.post("/api/v1/commands/resume")
    assert resume.status_code == 409 and resume.json()["detail"] == "clear the E-STOP first (reset)"
    assert console.status().phase == "estopped", "a refused resume changes nothing"
    cleared = client.post("/api/v1/commands/reset")
    assert cleared.status_code == 200 and cleared.json()["phase"] == "paused"
    again = client.post("/api/v1/commands/reset")
    assert again.status_code == 409 and "estopped" in again.json()["detail"]
    assert console.status().phase == "paused"
    assert console.resume().phase == "autonomous"


def test_events_endpoint_replays_since(console) -> None:
    start = console.recent_events().last_seq
    console.pause()
    console.resume()
    body = console.recent_events(since=start)
    kinds = [e.kind for e in body.data]
    assert kinds.count("phase_changed") == 2 and kinds.count("command") == 2
    assert body.count == len(body.data) and body.data[0].seq == start + 1


def test_openapi_documents_every_route(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/healthz", "/api/v1/status", "/api/v1/config", "/api/v1/cameras", "/api/v1/events",
                 "/api/v1/commands/pause", "/api/v1/commands/estop", "/api/v1/commands/reset",
                 "/api/v1/cameras/{name}/snapshot.jpg"):
        assert path in paths, path
    pause = paths["/api/v1/commands/pause"]["post"]
    assert {"200", "409", "422", "503"} <= set(pause["responses"])
    assert paths["/api/v1/commands/reset"]["post"]["summary"].startswith("Clear the E-STOP")
    assert client.get("/docs").status_code == 200


def test_snapshot_is_a_jpeg_of_the_configured_size(client) -> None:
    import cv2
    import numpy as np

    response = client.get("/api/v1/cameras/top/snapshot.jpg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(response.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (120, 160, 3) and float(response.headers["x-capture-time"]) > 0
    assert client.get("/api/v1/cameras/nope/snapshot.jpg").status_code == 404


def test_page_is_served_with_stable_selectors(client) -> None:
    html = client.get("/").text
    for selector in ('data-testid="phase"', 'data-camera="front"', 'data-camera="top"', 'data-command="pause"',
                     'data-command="resume"', 'data-command="stop"', 'data-command="estop"',
                     'data-testid="loop-hz"', 'data-testid="loop-lateness-p99"', 'data-joint="gripper.pos"'):
        assert selector in html, selector
    assert client.get("/static/js/main.js").status_code == 200
