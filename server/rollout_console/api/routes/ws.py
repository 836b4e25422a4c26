"""WS /api/v1/ws: state at 10 Hz, every event, and commands with acknowledgements.

Server -> client:  {"type": "hello", ...} once, then {"type": "state", ...} every 100 ms,
                   {"type": "event", "seq": N, ...} for each event, {"type": "ack", ...} per command,
                   {"type": "pong"} per ping, {"type": "error", "detail": ...} for malformed input.
Client -> server:  {"type": "command", "name": "pause", "id": "c1", "args": {}} or {"type": "ping"}.
Connect with ``?since=N`` to replay buffered events after N (resync after a reconnect).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ... import __version__
from ...runtime.commands import COMMAND_NAMES
from ...runtime.session import Session
from ..status_cache import StatusCache

router = APIRouter()
log = logging.getLogger(__name__)

STATE_PERIOD_S = 0.1


@router.websocket("/api/v1/ws")
async def control_socket(websocket: WebSocket, since: int | None = None) -> None:
    session: Session = websocket.app.state.session
    cache: StatusCache = websocket.app.state.status_cache
    await websocket.accept()
    loop = asyncio.get_running_loop()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def on_event(event: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop may be closing
            loop.call_soon_threadsafe(outbox.put_nowait, event.to_dict())

    unsubscribe = session.events.subscribe(on_event)
    first_seq = session.events.last_seq if since is None else since
    for event in session.events.since(first_seq) if since is not None else []:
        outbox.put_nowait(event.to_dict())
    await websocket.send_json(
        {
            "type": "hello",
            "version": __version__,
            "session_id": session.id,
            "strategy": session.strategy.name,
            "commands": sorted(session.strategy.commands),
            "cameras": list(session.cameras),
            "event_seq": session.events.last_seq,
        }
    )
    writer = asyncio.create_task(_write(websocket, outbox, cache, first_seq))
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
            task = _handle(text, session, outbox)
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
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


def _handle(text: str, session: Session, outbox: asyncio.Queue[dict[str, Any]]) -> asyncio.Task[None] | None:
    try:
        message = json.loads(text)
    except json.JSONDecodeError as exc:
        outbox.put_nowait({"type": "error", "detail": f"not valid JSON: {exc.msg}"})
        return None
    if not isinstance(message, dict):
        outbox.put_nowait({"type": "error", "detail": "a message must be a JSON object"})
        return None
    kind = message.get("type")
    message_id = message.get("id")
    if kind == "ping":
        outbox.put_nowait({"type": "pong", "id": message_id})
        return None
    if kind != "command":
        outbox.put_nowait({"type": "error", "id": message_id, "detail": f"unknown message type {kind!r}; "
                                                                         "expected 'command' or 'ping'"})
        return None
    name = message.get("name")
    args = message.get("args", {})
    if not isinstance(name, str) or not isinstance(args, dict):
        outbox.put_nowait({"type": "error", "id": message_id,
                           "detail": "a command needs a string 'name' and an object 'args'"})
        return None
    if name not in COMMAND_NAMES:
        outbox.put_nowait({"type": "ack", "id": message_id, "accepted": False, "status": 404,
                           "phase": session.phase.value, "detail": f"unknown command {name!r}"})
        return None
    source = f"ws:{message.get('client')}" if message.get("client") else "ws"

    async def run() -> None:
        result = await session.submit_async(name, args, source=source)
        outbox.put_nowait({"type": "ack", "id": message_id, "accepted": result.accepted, "status": result.status,
                           "phase": result.phase.value, "detail": result.detail})

    return asyncio.create_task(run())


async def _write(websocket: WebSocket, outbox: asyncio.Queue[dict[str, Any]], cache: StatusCache,
                 last_seq: int) -> None:
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
        await websocket.send_json({"type": "state", **status})
        next_state = max(next_state + STATE_PERIOD_S, loop.time())
