"""Request bodies are bounded and strictly decoded before any route (or FastAPI's parser) sees them.

A pure ASGI middleware, so nothing large is ever buffered or parsed on the event loop (a 50 MB JSON
body parsed there holds the GIL and stalls the control thread for half a second):

* ``Content-Length`` above ``--server.max_body_bytes`` -> 413 at once, the body is never read;
* a streamed (chunked) body, or one whose ``Content-Length`` lies, is counted as it arrives and refused
  with 413 the moment it passes the limit;
* a JSON body (``application/json``, ``*+json``, or no content type on POST/PUT/PATCH) must be UTF-8
  (else 400) and strict JSON: finite numbers, bounded nesting (else 422, never echoing the input).
The body, once accepted, is handed on unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .wire import WireError, parse_json

__all__ = ["BodyGuard", "too_large_detail"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def too_large_detail(max_bytes: int) -> str:
    return f"request body larger than {max_bytes} bytes (the server's --server.max_body_bytes)"


def _is_json(content_type: str | None, method: str) -> bool:
    if content_type is None:
        return method in _BODY_METHODS  # FastAPI may treat an untyped body as JSON
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def _answer(send: Send, status: int, content: dict[str, Any], *, close: bool = False) -> None:
    body = json.dumps(content).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:  # the rest of the body is not read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyGuard:
    """Refuses oversized or malformed bodies before routing; see the module docstring."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _answer(send, 413, {"detail": too_large_detail(self.max_bytes)}, close=True)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away mid-body
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _answer(send, 413, {"detail": too_large_detail(self.max_bytes)}, close=True)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers.get("content-type"), scope.get("method", "GET")):
            try:
                parse_json(body)
            except WireError as error:
                await _answer(send, error.status, _error_content(error))
                return
        await self.app(scope, _replay(body, receive), send)


def _error_content(error: WireError) -> dict[str, Any]:
    if error.status == 400:
        return {"detail": error.message}
    return {"detail": [{"type": error.kind, "loc": ["body"], "msg": error.message, "input": None}]}


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body as one message, then the real channel (for the disconnect)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
