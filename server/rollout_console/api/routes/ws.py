"""WS /api/v1/ws: state at 10 Hz, every event, commands with acknowledgements, the operator lease.

Server -> client:  {"type": "hello", ...} once (``server_id``, new on every server start, beside ``session_id``,
                   null while idle; ``seq`` counts per server process across sessions), then {"type": "state", ...} every 100 ms (with this
                   client's view of the lease), {"type": "event", "seq": N, ...} for each event,
                   {"type": "ack", ...} per command, {"type": "lease", ...} per lease request,
                   {"type": "pong"} per ping, {"type": "error", "detail": ...} for malformed input.
Client -> server:  {"type": "command", "name": "pause", "id": "c1", "args": {}},
                   {"type": "lease", "action": "acquire|heartbeat|release|request|respond|transfer", ...},
                   {"type": "teleop", "joints": {...}} | {"tip": {...}} | {"pixel": {...}} (leader targets),
                   {"type": "ping"}.
Connect with ``?client=<id>`` to identify the tab (lease holder identity), ``?name=<name>`` to name it (numbered
when another connected client has that name; ``hello.name`` says the name given; the lease action ``name``
renames) and ``?since=N`` to replay buffered events after N (resync after a reconnect). A lease holder whose socket closes releases it.

Every message is bounded (``WS_MAX_MESSAGE_BYTES``, ``MAX_JSON_DEPTH``, finite numbers only) and command and
lease arguments go through the same models as REST; anything refused gets a reply, never a dropped socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from ... import __version__
from ...protocol.commands import COMMAND_NAMES, COMMANDS, ArgsError, CommandOutcome, CommandResult, validate_args
from ...protocol.toggles import toggles_table
from ...runtime.host import ConsoleHost
from ..access import Caller, admit_websocket, authorize_command
from ..auth import Role
from ..errors import clean_issues
from ..lease import OperatorLease, client_id_problem
from ..outcomes import AccessRefusal, ack_fields
from ..status_cache import StatusCache
from ..wire import MAX_JSON_DEPTH, WS_MAX_MESSAGE_BYTES, WireError, parse_json
from .lease import LeaseBody
from .teleop import TeleopBody, apply_teleop

router = APIRouter()
log = logging.getLogger(__name__)

STATE_PERIOD_S = 0.1
_MAX_ECHO = 128  # longest client text (id, name) sent back in a reply
_LEASE_ACTIONS = ("acquire", "heartbeat", "release", "request", "respond", "transfer", "name")


@router.websocket("/api/v1/ws")
async def control_socket(websocket: WebSocket, since: int | None = None, name: str | None = None) -> None:
    caller = await admit_websocket(websocket)
    if caller is None:
        return
    host: ConsoleHost = websocket.app.state.host
    cache: StatusCache = websocket.app.state.status_cache
    lease: OperatorLease = websocket.app.state.lease
    await websocket.accept()
    shown = lease.connect(caller.client_id, name) if caller.client_id else None
    loop = asyncio.get_running_loop()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def on_event(event: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop may be closing
            loop.call_soon_threadsafe(outbox.put_nowait, event.to_dict())

    unsubscribe = host.events.subscribe(on_event)
    first_seq = host.events.last_seq if since is None else since
    for event in host.events.since(first_seq) if since is not None else []:
        outbox.put_nowait(event.to_dict())
    session = host.session
    about = None if session is None else session.describe()
    await websocket.send_json(
        {
            "type": "hello",
            "version": __version__,
            "server_id": host.server_id,
            "session_id": None if about is None else about.id,
            "phase": host.phase.value,
            "strategy": None if about is None else about.strategy,
            "commands": [] if about is None else list(about.commands),
            "command_help": {} if about is None else {name: COMMANDS[name].help for name in about.commands},
            "command_labels": {} if about is None else {name: COMMANDS[name].label for name in about.commands},
            "toggles": toggles_table(),
            "cameras": list(host.cameras),
            "event_seq": host.events.last_seq,
            "exit_when_stopped": host.config.server.exit_when_stopped,
            "server_closing": host.closing,
            "role": caller.role.value,
            "client": caller.client_id,
            "name": shown,
            "lease": {"timeout_s": lease.config.timeout_s, "heartbeat_s": lease.config.heartbeat_s},
        }
    )
    writer = asyncio.create_task(_write(websocket, outbox, cache, lease, caller, first_seq))
    pending: set[asyncio.Task[None]] = set()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                outbox.put_nowait({"type": "error", "detail": "binary messages are not accepted; send JSON text"})
                continue
            try:
                task = _handle(text, websocket, caller, outbox)
            except Exception:  # a bug must cost one reply, not the operator's connection (and lease)
                log.exception("control socket: message handling failed")
                _error(outbox, "the server could not handle this message (logged); the socket stays open")
                continue
            if task is not None:
                pending.add(task)
                task.add_done_callback(pending.discard)
    except WebSocketDisconnect:
        pass
    finally:
        unsubscribe()
        writer.cancel()
        for task in pending:
            task.cancel()
        if caller.client_id and lease.holds(caller.client_id):
            lease.release(caller.client_id)  # the holder's page is gone: do not wait for the lapse
        if caller.client_id:
            lease.disconnect(caller.client_id)  # its name is free again once its last socket is gone
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


def _reply_id(message: dict[str, Any]) -> Any:
    """The client's message id to echo: a number or a short string (anything else is not sent back)."""
    value = message.get("id")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    return value if not isinstance(value, str) or len(value) <= _MAX_ECHO else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "..."


def _error(outbox: asyncio.Queue[dict[str, Any]], detail: str, message_id: Any = None) -> None:
    outbox.put_nowait({"type": "error", "id": message_id, "detail": detail})


def _handle(text: str, websocket: WebSocket, caller: Caller,
            outbox: asyncio.Queue[dict[str, Any]]) -> asyncio.Task[None] | None:
    if len(text) > WS_MAX_MESSAGE_BYTES or len(text.encode()) > WS_MAX_MESSAGE_BYTES:
        _error(outbox, f"message larger than {WS_MAX_MESSAGE_BYTES} bytes; not read")
        return None
    try:
        message = parse_json(text, max_depth=MAX_JSON_DEPTH)
    except WireError as exc:
        _error(outbox, str(exc))
        return None
    if not isinstance(message, dict):
        _error(outbox, "a message must be a JSON object")
        return None
    kind = message.get("type")
    message_id = _reply_id(message)
    if kind == "ping":
        outbox.put_nowait({"type": "pong", "id": message_id})
        return None
    if kind == "lease":
        _lease_message(message, websocket, caller, outbox)
        return None
    if kind == "teleop":
        _teleop_message(message, websocket, caller, outbox)
        return None
    if kind != "command":
        _error(outbox, f"unknown message type {_short(kind)}; expected 'command', 'lease', 'teleop' or 'ping'",
               message_id)
        return None
    return _command(message, websocket, caller, outbox)


def _command(message: dict[str, Any], websocket: WebSocket, caller: Caller,
             outbox: asyncio.Queue[dict[str, Any]]) -> asyncio.Task[None] | None:
    host: ConsoleHost = websocket.app.state.host
    message_id = _reply_id(message)
    name = message.get("name")
    if not isinstance(name, str):
        _error(outbox, "a command needs a string 'name' (and optionally an object 'args')", message_id)
        return None

    def ack(result: CommandResult | AccessRefusal, **extra: Any) -> None:
        outbox.put_nowait({"type": "ack", "id": message_id, **ack_fields(result), **extra})

    if name not in COMMAND_NAMES:
        ack(CommandResult.refused(host.phase, f"unknown command {_short(name)}", CommandOutcome.UNKNOWN))
        return None
    try:  # the command table's argument model: what REST refuses, the socket refuses (before the lease check)
        args = validate_args(name, message.get("args"), clean=clean_issues)
    except ArgsError as exc:
        ack(CommandResult.refused(host.phase, str(exc), CommandOutcome.BAD_ARGS), error="bad_args",
            errors=exc.issues)
        return None
    named = message.get("client")  # a script without ?client= may name itself per message (events only)
    label = caller.client_id or (named if client_id_problem(named) is None else None)
    source = f"ws:{label}" if label else "ws"
    refusal = authorize_command(websocket.app, caller, name, source)
    if refusal is not None:
        ack(refusal)
        return None

    async def run() -> None:
        ack(await host.submit_async(name, args, source=source))

    return asyncio.create_task(run())


def _lease_message(message: dict[str, Any], websocket: WebSocket, caller: Caller,
                   outbox: asyncio.Queue[dict[str, Any]]) -> None:
    lease: OperatorLease = websocket.app.state.lease
    action = message.get("action")
    message_id = _reply_id(message)
    if action not in _LEASE_ACTIONS:
        _error(outbox, f"lease action must be one of {', '.join(_LEASE_ACTIONS)}", message_id)
        return
    if caller.role is not Role.OPERATOR:
        _error(outbox, "viewers cannot take control; open the console with the operator token", message_id)
        return
    if not caller.client_id:
        _error(outbox, "connect with ?client=<id> to use the lease", message_id)
        return
    try:  # the REST body model validates the same fields
        body = LeaseBody.model_validate({key: message[key] for key in LeaseBody.model_fields if key in message})
    except ValidationError as exc:
        issues = clean_issues(exc.errors())
        where = ".".join(str(part) for part in issues[0]["loc"]) or "lease"
        outbox.put_nowait({"type": "lease", "id": message_id, "action": action, "ok": False, "status": 422,
                           "reason": f"bad arguments: {where}: {issues[0]['msg']}", "holder": None,
                           "error": "bad_args", "errors": issues})
        return
    client, label = caller.client_id, body.label
    if action == "acquire":
        result = lease.acquire(client, label, force=body.force)
    elif action == "heartbeat":
        result = lease.heartbeat(client)
    elif action == "release":
        result = lease.release(client)
    elif action == "request":
        result = lease.request(client, label)
    elif action == "respond":
        result = lease.respond(client, body.accept)
    elif action == "name":
        named = lease.name(client, label)
        outbox.put_nowait({"type": "lease", "id": message_id, "action": action, "ok": True, "status": 200,
                           "reason": f"this client is called {named}", "name": named,
                           "holder": lease.snapshot(client)["holder"]})
        return
    else:
        target = body.to
        if not target:
            _error(outbox, "transfer needs 'to': the client id to hand control to", message_id)
            return
        result = lease.transfer(client, target, label)
    if action != "heartbeat" or not result.ok:  # successful heartbeats need no answer
        outbox.put_nowait({"type": "lease", "id": message_id, "action": action, "ok": result.ok,
                           "status": result.status, "reason": result.reason, "holder": result.holder})


def _teleop_message(message: dict[str, Any], websocket: WebSocket, caller: Caller,
                    outbox: asyncio.Queue[dict[str, Any]]) -> None:
    """Leader targets streamed from sliders or drags: silent on success, an error reply otherwise."""
    body = {k: v for k, v in message.items() if k in ("joints", "tip", "pixel", "gripper")}
    try:
        apply_teleop(websocket.app, caller, TeleopBody.model_validate(body), f"ws:{caller.client_id or 'page'}")
    except ValidationError as exc:
        _error(outbox, f"teleop: {exc.errors()[0]['msg']}", _reply_id(message))
    except HTTPException as exc:
        _error(outbox, f"teleop: {exc.detail}", _reply_id(message))


async def _write(websocket: WebSocket, outbox: asyncio.Queue[dict[str, Any]], cache: StatusCache,
                 lease: OperatorLease, caller: Caller, last_seq: int) -> None:
    loop = asyncio.get_running_loop()
    next_state = loop.time()
    while True:
        timeout = next_state - loop.time()
        item: dict[str, Any] | None = None
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                item = await asyncio.wait_for(outbox.get(), timeout)
        if item is not None:
            if item.get("type") == "event":
                if item["seq"] <= last_seq:
                    continue  # already delivered (replay and live subscription overlap)
                last_seq = item["seq"]
            await websocket.send_json(item)
            continue
        status = await asyncio.to_thread(cache.get)
        await websocket.send_json({"type": "state", **status, "lease": lease.snapshot(viewer_id=caller.client_id),
                                   "role": caller.role.value})
        next_state = max(next_state + STATE_PERIOD_S, loop.time())
