"""Bad input over a real server gets a 4xx that says why, never a 500, a stall, an echo or a dropped socket.

Each case is one of issue 10's findings: long or tabbed client ids (500 on every lease route), NaN and
Infinity in bodies (500 from the 422 handler), a 50 MB body (accepted, echoed back, parsed on the event
loop), ``"[" * 100000`` on the control socket (RecursionError, socket dropped), WebSocket commands taking
arguments REST refuses, and an OpenAPI that did not say any of this.
"""

from __future__ import annotations

import json
import select
import socket

import httpx
import pytest
from helpers import config, dataset_flags, live_server, wait_until
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

MAX_BODY = 64 * 1024
LEASE_ROUTES = ("acquire", "heartbeat", "release", "request", "respond", "transfer")
RULE = "visible ASCII"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-input") / "ds"
    flags = dataset_flags(root, "sentry", "--dataset.video=false", f"--server.max_body_bytes={MAX_BODY}",
                          "--return_to_initial_position=false", "--loop.command_timeout_s=60",
                          "--lease.timeout_s=60")
    with live_server(config(*flags)) as live:
        wait_until(lambda: live.session.phase.value == "autonomous", timeout=30, message="autonomous")
        yield live


@pytest.fixture
def client(server):
    with server.client() as c:
        yield c
        if server.session.phase.value == "estopped":
            c.post("/api/v1/commands/reset")
        if server.session.phase.value == "paused":
            c.post("/api/v1/commands/resume")
        holder = c.get("/api/v1/lease").json()["holder"]
        assert holder is None, f"a test left the lease held: {holder}"


def _phase(server) -> str:
    return server.session.phase.value


# ------------------------------------------------------------------------------------ client ids


@pytest.mark.parametrize("bad_id", ["x" * 200, "tab\there", "two words", "caf\u00e9"])
def test_malformed_client_ids_get_400_naming_the_rule_on_every_lease_route(server, client, bad_id) -> None:
    encoded = bad_id.encode("latin-1")  # what a client can put in a header
    for route in LEASE_ROUTES:
        answer = client.post(f"/api/v1/lease/{route}", headers={"X-Client-Id": encoded}, json={"to": "other"})
        assert answer.status_code == 400, (route, answer.text)
        assert RULE in answer.json()["detail"] and "128" in answer.json()["detail"], answer.text
    assert client.get("/api/v1/lease", headers={"X-Client-Id": encoded}).status_code == 400
    assert client.post("/api/v1/commands/pause", headers={"X-Client-Id": encoded}).status_code == 400
    assert client.get("/api/v1/lease").json()["holder"] is None and _phase(server) == "autonomous"


def test_a_missing_client_id_is_400_and_transfer_checks_its_target(server, client) -> None:
    missing = client.post("/api/v1/lease/acquire")
    assert missing.status_code == 400 and "X-Client-Id" in missing.json()["detail"]
    me = {"X-Client-Id": "script-1"}
    assert client.post("/api/v1/lease/acquire", headers=me).json()["ok"]
    try:
        bad_target = client.post("/api/v1/lease/transfer", headers=me, json={"to": "a\tb"})
        assert bad_target.status_code == 422 and RULE in bad_target.json()["detail"][0]["msg"]
        no_target = client.post("/api/v1/lease/transfer", headers=me, json={})
        assert no_target.status_code == 422 and no_target.json()["detail"][0]["loc"] == ["body", "to"]
        assert client.get("/api/v1/lease", headers=me).json()["yours"], "refusals changed nothing"
    finally:
        assert client.post("/api/v1/lease/release", headers=me).json()["ok"]
    wait_until(lambda: _phase(server) == "paused", timeout=30, message="the release pauses the moving robot")
    assert client.post("/api/v1/commands/resume").json()["phase"] == "autonomous"


def test_websocket_with_a_malformed_client_id_is_closed_with_the_rule(server) -> None:
    with pytest.raises(ConnectionClosed) as info, connect(server.ws_url + "/api/v1/ws?client=a%09b") as ws:
        ws.recv(timeout=10)
    assert info.value.rcvd.code == 1008 and RULE in info.value.rcvd.reason


# ------------------------------------------------------------------------------ non-finite numbers


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_422_and_never_echoed(server, client, literal) -> None:
    bodies = {
        "/api/v1/commands/save": f'{{"outcome": {literal}}}',
        "/api/v1/commands/pause": f'{{"speed": {literal}}}',
        "/api/v1/lease/acquire": f'{{"label": "x", "force": {literal}}}',
    }
    for path, body in bodies.items():
        answer = client.post(path, content=body, headers={"content-type": "application/json", "X-Client-Id": "t"})
        assert answer.status_code == 422, (path, answer.text)
        assert literal not in answer.text.replace(f"{literal} is", ""), answer.text  # named once in msg, not echoed
        detail = answer.json()["detail"]
        assert detail[0]["loc"] == ["body"] and "finite" in detail[0]["msg"]
    teleop = client.put("/api/v1/teleop", content=f'{{"joints": {{"elbow_flex.pos": {literal}}}}}',
                        headers={"content-type": "application/json"})
    assert teleop.status_code == 422
    assert _phase(server) == "autonomous" and client.get("/api/v1/lease").json()["holder"] is None


def test_deep_nesting_and_non_utf8_bodies_are_refused_cleanly(client) -> None:
    deep = client.post("/api/v1/commands/save", content="[" * 50_000, headers={"content-type": "application/json"})
    assert deep.status_code == 422 and deep.json()["detail"][0]["type"] == "json_too_deep"
    not_utf8 = client.post("/api/v1/commands/save", content=b'{"outcome": "\xff"}',
                           headers={"content-type": "application/json"})
    assert not_utf8.status_code == 400 and "UTF-8" in not_utf8.json()["detail"]


def test_a_422_never_echoes_a_large_input(client) -> None:
    huge = "y" * (MAX_BODY // 2)
    answer = client.post("/api/v1/commands/save", json={"outcome": huge})
    assert answer.status_code == 422
    assert len(answer.content) < 2000 and huge not in answer.text
    assert "not echoed" in answer.json()["detail"][0]["input"]
    small = client.post("/api/v1/commands/save", json={"outcome": "maybe"})
    assert small.json()["detail"][0]["input"] == "maybe"  # small inputs still help the caller


# ------------------------------------------------------------------------------------ body size


@pytest.fixture
def parsed_sizes(monkeypatch) -> list[int]:
    """Length of every document json.loads decodes in this process (the server's parser included)."""
    sizes: list[int] = []
    real_loads = json.loads

    def spy(document, *args, **kwargs):
        sizes.append(len(document))
        return real_loads(document, *args, **kwargs)

    monkeypatch.setattr(json, "loads", spy)
    return sizes


def _raw_request(server, head: str, chunks: list[bytes] | None = None) -> tuple[int, bytes]:
    """Send a request by hand (so nothing forces the body out); stop sending once an answer arrives."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode())
        for chunk in chunks or []:
            if select.select([sock], [], [], 0)[0]:
                break  # the server answered already: the rest of the body is never sent
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    status = int(answer.split(b" ", 2)[1])
    return status, answer.split(b"\r\n\r\n", 1)[1]


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def test_a_declared_50_mb_body_is_refused_before_a_byte_is_read(server, parsed_sizes) -> None:
    head = (f"POST /api/v1/commands/pause HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n")
    status, body = _raw_request(server, head)  # the body is never sent: the answer cannot wait for it
    assert status == 413 and b"max_body_bytes" in body
    assert all(size <= MAX_BODY for size in parsed_sizes)
    assert _phase(server) == "autonomous"


def test_a_streamed_body_is_cut_off_at_the_limit_and_never_parsed(server, parsed_sizes) -> None:
    piece = b"[" + b"1," * 8000 + b"1]"
    chunks = [f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for _ in range(40)]  # 640 KB, chunked
    head = (f"POST /api/v1/commands/pause HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    status, body = _raw_request(server, head, chunks)
    assert status == 413 and b"max_body_bytes" in body
    assert all(size <= MAX_BODY for size in parsed_sizes), max(parsed_sizes)
    assert _phase(server) == "autonomous"


def test_a_body_within_the_limit_still_works(server, client) -> None:
    padded = client.post("/api/v1/commands/pause", content=b"{}" + b" " * (MAX_BODY - 100),
                         headers={"content-type": "application/json"})
    assert padded.status_code == 200 and padded.json()["phase"] == "paused"
    assert client.post("/api/v1/commands/resume").json()["phase"] == "autonomous"


# -------------------------------------------------------------------------------------- websocket


def _next(ws, kind: str) -> dict:
    while True:
        message = json.loads(ws.recv(timeout=30))
        if message["type"] == kind:
            return message


def _still_open(ws) -> None:
    ws.send(json.dumps({"type": "ping", "id": "alive"}))
    assert _next(ws, "pong")["id"] == "alive"


def test_hostile_websocket_messages_get_an_error_and_the_socket_stays_open(server) -> None:
    with connect(server.ws_url + "/api/v1/ws?client=tab-hostile") as ws:
        for hostile, words in (("[" * 100_000, "larger than"), ("[" * 60_000, "nested"),
                               ('{"type": "ping", "id": NaN}', "finite"), ("x" * 70_000, "larger than")):
            ws.send(hostile)
            assert words in _next(ws, "error")["detail"]
            _still_open(ws)
        assert _phase(server) == "autonomous"


def test_websocket_command_arguments_are_validated_exactly_as_rest(server, client) -> None:
    rest = client.post("/api/v1/commands/save", json={"outcome": "maybe"})
    assert rest.status_code == 422
    with connect(server.ws_url + "/api/v1/ws?client=tab-args") as ws:
        for args in ({"outcome": "maybe"}, {"speed": 3}, [1, 2], "save"):
            name = "pause" if args == {"speed": 3} else "save"
            ws.send(json.dumps({"type": "command", "name": name, "id": "c", "args": args}))
            ack = _next(ws, "ack")
            assert ack["accepted"] is False and ack["status"] == 422 and ack["error"] == "bad_args", ack
            assert ack["outcome"] == "bad_args"
            assert ack["errors"][0]["loc"][0] == "args"
            rest = client.post(f"/api/v1/commands/{name}", json=args)
            assert rest.status_code == 422, (args, rest.text)
        assert _phase(server) == "autonomous", "refused commands changed nothing"
        ws.send(json.dumps({"type": "command", "name": "pause", "id": "ok", "args": {}}))
        assert _next(ws, "ack")["phase"] == "paused"
        ws.send(json.dumps({"type": "command", "name": "resume", "id": "ok2"}))
        assert _next(ws, "ack")["phase"] == "autonomous"


def test_websocket_lease_arguments_are_validated_as_rest(server, client) -> None:
    with connect(server.ws_url + "/api/v1/ws?client=tab-lease") as ws:
        for bad in ({"action": "acquire", "label": 5}, {"action": "acquire", "force": "very"},
                    {"action": "transfer", "to": "a b"}):
            ws.send(json.dumps({"type": "lease", "id": "l", **bad}))
            reply = _next(ws, "lease")
            assert reply["ok"] is False and reply["status"] == 422 and reply["error"] == "bad_args", reply
        _still_open(ws)
    assert client.get("/api/v1/lease").json()["holder"] is None


# --------------------------------------------------------------------------------------- openapi


def test_openapi_declares_what_the_server_does(client) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for route in LEASE_ROUTES:
        operation = paths[f"/api/v1/lease/{route}"]["post"]
        (header,) = [p for p in operation["parameters"] if p["name"] == "X-Client-Id"]
        assert header["required"] is True and header["schema"]["maxLength"] == 128 and "pattern" in header["schema"]
        assert {"400", "413", "422"} <= set(operation["responses"])
    lease_get = [p for p in paths["/api/v1/lease"]["get"]["parameters"] if p["name"] == "X-Client-Id"]
    assert lease_get and lease_get[0]["required"] is False
    for path, method in (("/api/v1/commands/save", "post"), ("/api/v1/teleop", "put")):
        responses = paths[path][method]["responses"]
        assert {"400", "413", "422"} <= set(responses), path
        assert "ValidationProblem" in json.dumps(responses["422"])
    allow = client.options("/api/v1/teleop")
    assert allow.status_code == 405 and set(allow.headers["allow"].split(", ")) == {"GET", "PUT"}


def test_lease_routes_without_any_id_answer_400_not_500(server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as plain:
        for route in LEASE_ROUTES:
            assert plain.post(f"/api/v1/lease/{route}").status_code == 400


def test_a_malformed_client_name_in_a_message_is_not_used_as_the_event_source(server) -> None:
    with connect(server.ws_url + "/api/v1/ws") as ws:
        for client, expected in (("a\tb" * 50, "ws"), ("script-7", "ws:script-7")):
            ws.send(json.dumps({"type": "command", "name": "pause", "id": "p", "client": client}))
            assert _next(ws, "ack")["accepted"]
            event = next(e for e in reversed(server.session.events.since(0))
                         if e.kind == "command" and e.data["name"] == "pause")  # published before the ack
            assert event.data["source"] == expected
            ws.send(json.dumps({"type": "command", "name": "resume", "id": "r"}))
            assert _next(ws, "ack")["phase"] == "autonomous"
