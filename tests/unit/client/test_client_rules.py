"""The client's pure rules: answers to typed errors, the event stream's resync decisions, addresses, ids."""

from __future__ import annotations

import httpx
import pytest
from rollout_console.client import CommandRejected, LeaseHeld, NotApplied, NotFound, Unauthorized
from rollout_console.client.errors import BadRequest
from rollout_console.client.stream import RESYNC, EventCursor
from rollout_console.client.wait import phase_matcher
from rollout_console.protocol.commands import CommandOutcome
from rollout_console.protocol.phases import Phase
from rollout_console.client.wire import error_for, new_client_id, normalize_url, reply_of, ws_url


def _answer(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("POST", "http://x/api/v1/commands/pause"))


@pytest.mark.parametrize(("status", "kind", "exit_status"), [
    (409, CommandRejected, 3), (422, CommandRejected, 3), (423, LeaseHeld, 4), (503, NotApplied, 5),
    (401, Unauthorized, 6), (403, Unauthorized, 6), (404, NotFound, 3), (400, BadRequest, 2),
])
def test_each_refusal_is_a_typed_error_with_its_exit_status(status, kind, exit_status) -> None:
    error = error_for(_answer(status, {"detail": "why not"}))
    assert type(error) is kind and error.status == status and error.exit_status == exit_status
    assert error.reason == "why not"


def test_a_422_names_the_field_and_keeps_the_issues() -> None:
    issues = [{"type": "literal_error", "loc": ["body", "outcome"], "msg": "Input should be 'success'"}]
    error = error_for(_answer(422, {"detail": issues}))
    assert isinstance(error, CommandRejected) and error.issues == issues
    assert error.reason == "outcome: Input should be 'success'"


def test_a_lease_answer_carries_the_holder() -> None:
    error = error_for(_answer(423, {"ok": False, "reason": "tablet A holds control", "holder": {"label": "tablet A"}}))
    assert isinstance(error, LeaseHeld) and error.holder == {"label": "tablet A"}
    assert error.reason == "tablet A holds control"


def test_a_body_that_is_not_json_still_gives_a_reason() -> None:
    response = httpx.Response(503, text="<html>gateway</html>", request=httpx.Request("GET", "http://x/"))
    assert error_for(response).reason.startswith("HTTP 503")


def test_202_is_applied_with_its_outcome_pending() -> None:
    reply = reply_of("save", _answer(202, {"accepted": True, "phase": "paused", "detail": "save is still in progress",
                                           "outcome": "pending"}))
    assert reply.pending and reply.status == 202 and reply.detail == "save is still in progress"
    assert not reply_of("pause", _answer(200, {"accepted": True, "phase": "paused", "detail": None})).pending
    already = reply_of("pause", _answer(200, {"accepted": True, "phase": "paused", "detail": "already paused",
                                              "outcome": "already"}))
    assert already.already and already.phase is Phase.PAUSED and already.outcome is CommandOutcome.ALREADY
    older = reply_of("pause", _answer(200, {"accepted": True, "phase": "paused", "detail": "already paused"}))
    assert older.already, "a server from before `outcome`: read from the detail"
    newer = reply_of("pause", _answer(200, {"accepted": True, "phase": "levitating", "outcome": "deferred"}))
    assert newer.phase == "levitating" and newer.outcome == "deferred"  # a newer server's values pass through


def _hello(server: str, seq: int) -> dict:
    return {"type": "hello", "version": "0.1.0", "session_id": "s-" + server, "server_id": server, "event_seq": seq}


def _event(seq: int, kind: str = "command") -> dict:
    return {"type": "event", "seq": seq, "time": 1.0, "kind": kind, "data": {}}


def test_reconnect_to_the_same_server_resumes_after_the_last_event_without_duplicates() -> None:
    cursor = EventCursor()
    assert cursor.query() is None  # first connection: only new events
    assert cursor.on_hello(_hello("A", 10))
    assert [cursor.accept(_event(seq)).seq for seq in (11, 12)] == [11, 12]
    assert cursor.query() == 12  # the reconnect asks for what came after 12
    assert cursor.on_hello(_hello("A", 15))
    assert cursor.accept(_event(12)) is None  # overlap between replay and live: skipped
    assert cursor.accept(_event(13)).seq == 13 and not cursor.take_notices()


def test_a_new_server_id_restarts_from_scratch_and_says_so() -> None:
    cursor = EventCursor()
    cursor.on_hello(_hello("A", 40))
    cursor.accept(_event(41))
    assert cursor.on_hello(_hello("B", 3)) is False  # reconnect from scratch
    (notice,) = cursor.take_notices()
    assert notice.kind == RESYNC and notice.data["reason"] == "server_restarted" and "restarted" in notice.data["message"]
    assert cursor.query() == 0
    assert cursor.on_hello(_hello("B", 3))
    assert [cursor.accept(_event(seq)).seq for seq in (1, 2, 3)] == [1, 2, 3]


def test_an_older_server_without_server_id_is_followed_by_session_id() -> None:
    cursor = EventCursor()
    cursor.on_hello({"type": "hello", "version": "0.1.0", "session_id": "one", "event_seq": 5})
    assert cursor.on_hello({"type": "hello", "version": "0.1.0", "session_id": "two", "event_seq": 0}) is False


def test_events_lost_from_the_replay_buffer_are_reported_as_a_gap() -> None:
    cursor = EventCursor(since=10)
    cursor.on_hello(_hello("A", 2000))
    assert cursor.accept(_event(900)).seq == 900
    (notice,) = cursor.take_notices()
    assert notice.data == {"reason": "gap", "message": notice.data["message"], "first_missing": 11, "last_missing": 899}


def test_phase_matcher_and_addresses() -> None:
    assert phase_matcher("paused")("paused") and not phase_matcher("paused")("autonomous")
    assert phase_matcher(["paused", "estopped"])("estopped") and phase_matcher(None)("anything")
    assert normalize_url("127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert ws_url("https://robot:8443", "/api/v1/ws", {"since": 3, "token": None}) == "wss://robot:8443/api/v1/ws?since=3"
    with pytest.raises(ValueError):
        normalize_url("ftp://robot")
    assert new_client_id(None).startswith("script-") and new_client_id("nightly-1") == "nightly-1"
    with pytest.raises(ValueError, match="visible ASCII"):
        new_client_id("has space")
