"""WS /api/v1/ws (state, events, commands, acks, malformed input) and the camera preview streams."""

from __future__ import annotations

import json
import struct
import time

import cv2
import httpx
import numpy as np
import pytest
from helpers import config, live_server, wait_until
from rollout_console.client import Console
from rollout_console.protocol.commands import COMMANDS
from rollout_console.protocol.toggles import toggles_table
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


@pytest.fixture(scope="module")
def server():
    with live_server(config("--return_duration_s=0.5")) as live:
        wait_until(lambda: live.session.phase.value == "autonomous")
        yield live


def _receive_until(ws, predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if predicate(message):
            return message
    raise AssertionError("expected message not received")


def test_hello_then_periodic_state(server) -> None:
    # the 10 Hz pace is a figure for `make bench`; here: states keep coming, each a full snapshot
    with connect(server.ws_url + "/api/v1/ws") as ws:
        hello = json.loads(ws.recv(timeout=30))
        assert hello["type"] == "hello" and hello["strategy"] == "base" and "pause" in hello["commands"]
        states = [_receive_until(ws, lambda m: m["type"] == "state") for _ in range(5)]
        assert states[-1]["phase"] == "autonomous" and "loop" in states[-1] and "joints" in states[-1]["robot"]
        assert states[-1]["elapsed_s"] >= states[0]["elapsed_s"]


def test_hello_and_the_commands_route_publish_one_command_table(server) -> None:
    """Help texts and the toggle table come from the server (the pedal's table), for the page and clients."""
    listed = httpx.get(server.url + "/api/v1/commands", timeout=30)
    assert listed.status_code == 200
    body = listed.json()
    by_name = {c["command"]: c for c in body["data"]}
    assert body["count"] == len(COMMANDS) and list(by_name) == list(COMMANDS)
    assert by_name["save"]["args_schema"]["properties"]["outcome"] and by_name["pause"]["help"] == COMMANDS["pause"].help
    assert by_name["pause"]["available"] and not by_name["takeover"]["available"]  # base strategy
    assert body["toggles"] == toggles_table()
    with connect(server.ws_url + "/api/v1/ws") as ws:
        hello = json.loads(ws.recv(timeout=30))
    assert hello["toggles"] == body["toggles"]
    assert hello["command_help"] == {name: COMMANDS[name].help for name in hello["commands"]}
    assert hello["command_labels"] == {name: COMMANDS[name].label for name in hello["commands"]}
    assert hello["command_labels"]["reset"] == "Clear E-STOP" and by_name["reset"]["label"] == "Clear E-STOP"
    assert all(by_name[name]["label"] == spec.label for name, spec in COMMANDS.items())
    assert by_name["reset"]["available"] and "reset" in hello["commands"]


def test_command_ack_and_events_in_order(server) -> None:
    with connect(server.ws_url + "/api/v1/ws") as ws:
        ws.send(json.dumps({"type": "command", "name": "pause", "id": "a1"}))
        seen: list[dict] = []
        _receive_until(ws, lambda m: seen.append(m) or m["type"] == "ack")
        ack = seen[-1]
        assert ack == {"type": "ack", "id": "a1", "accepted": True, "status": 200, "outcome": "applied",
                       "phase": "paused", "detail": None}
        event = next(m for m in seen if m["type"] == "event" and m["kind"] == "phase_changed")
        assert event["data"]["phase"] == "paused" and event["data"]["source"] == "ws" and event["seq"] > 0
        ws.send(json.dumps({"type": "command", "name": "takeover", "id": 7}))
        refused = _receive_until(ws, lambda m: m["type"] == "ack")
        assert refused["id"] == 7 and refused["accepted"] is False and refused["status"] == 409
        assert refused["outcome"] == "invalid_now"
        ws.send(json.dumps({"type": "command", "name": "warp", "id": "x"}))
        unknown = _receive_until(ws, lambda m: m["type"] == "ack")
        assert unknown["accepted"] is False and unknown["status"] == 404 and unknown["outcome"] == "unknown"
        ws.send(json.dumps({"type": "command", "name": "resume", "id": "a2"}))
        assert _receive_until(ws, lambda m: m["type"] == "ack")["phase"] == "autonomous"


def test_malformed_messages_get_an_error_and_the_socket_stays_open(server) -> None:
    with connect(server.ws_url + "/api/v1/ws") as ws:
        for bad in ("not json", "[1, 2]", json.dumps({"type": "dance"}), json.dumps({"type": "command", "name": 3})):
            ws.send(bad)
            error = _receive_until(ws, lambda m: m["type"] == "error")
            assert error["detail"]
        ws.send(b"\x00\x01")
        assert "binary" in _receive_until(ws, lambda m: m["type"] == "error")["detail"]
        ws.send(json.dumps({"type": "ping", "id": 1}))
        assert _receive_until(ws, lambda m: m["type"] == "pong")["id"] == 1


def test_reconnecting_client_replays_missed_events(server) -> None:
    with connect(server.ws_url + "/api/v1/ws") as ws:
        seq = json.loads(ws.recv(timeout=30))["event_seq"]
    server.session.submit("pause", source="script")
    server.session.submit("resume", source="script")
    with Console(server.url) as console:  # the client connects with ?since=N, as a reconnect does
        replayed = []
        for event in console.events(since=seq):
            replayed.append(event)
            if len([e for e in replayed if e.kind == "phase_changed"]) == 2:
                break
    seqs = [e.seq for e in replayed]
    assert seqs == sorted(seqs) and seqs[0] == seq + 1 and len(set(seqs)) == len(seqs)


def _frames(server, name: str, count: int) -> list[tuple[int, float, np.ndarray]]:
    frames = []
    with connect(server.ws_url + f"/api/v1/cameras/{name}/ws") as ws:
        while len(frames) < count:
            packet = ws.recv(timeout=30)
            assert isinstance(packet, bytes)
            magic, seq, captured = struct.unpack("<4sId", packet[:16])
            assert magic == b"RCJ1"
            image = cv2.imdecode(np.frombuffer(packet[16:], np.uint8), cv2.IMREAD_COLOR)
            frames.append((seq, captured, image))
    return frames


def test_camera_stream_is_jpeg_of_the_configured_size_and_changes(server) -> None:
    frames = _frames(server, "front", 8)
    for _seq, captured, image in frames:
        assert image is not None and image.shape == (120, 160, 3)
        assert abs(time.time() - captured) < 3600  # Unix time (not a monotonic clock); freshness is bench's
    seqs = [f[0] for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert not np.array_equal(frames[0][2], frames[-1][2]), "frames must change over time"


def test_one_encode_per_frame_whatever_the_viewer_count(server) -> None:
    hubs = server.server.config.app.state.hubs
    top = hubs.get("top")
    encodes_before = top.encodes
    frames = _frames(server, "top", 10)
    assert len(frames) == 10
    assert top.encodes - encodes_before >= 10
    # four simultaneous viewers share the encodes: each frame is encoded once
    from concurrent.futures import ThreadPoolExecutor

    start_encodes, start_seq = top.encodes, top.source.latest().seq
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _frames(server, "top", 15), range(4)))
    encoded = top.encodes - start_encodes
    captured = top.source.latest().seq - start_seq  # frames the camera produced meanwhile, whatever the pace
    assert all(len(frames) == 15 for frames in results)
    assert encoded <= captured + 1, f"{encoded} encodes for {captured} camera frames (4 viewers)"


def test_unknown_camera_closes_with_4404(server) -> None:
    with connect(server.ws_url + "/api/v1/cameras/nope/ws") as ws, pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=30)
    assert info.value.rcvd.code == 4404
