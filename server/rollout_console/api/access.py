"""Applies the AccessPolicy (tokens, origins) and the OperatorLease to HTTP requests and WebSockets.

Pure decisions live in auth.py and lease.py; this module only translates them to HTTP: 401/403 for
access, 403 for a viewer's command, 423 (naming the holder) when another client holds control.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.middleware.base import RequestResponseEndpoint

from ..runtime.host import ConsoleHost
from .auth import QUERY_PARAM, AccessPolicy, Role
from .lease import OperatorLease, client_id_problem
from .outcomes import AccessRefusal

__all__ = ["Caller", "admit_websocket", "authorize_command", "install_access_middleware"]

_OPEN_PATHS = frozenset({"/healthz"})
_PAGE_PATHS = frozenset({"/", "/tablet"})  # a token in their address is swapped for a cookie


@dataclass(frozen=True)
class Caller:
    """Who sent a request: their role and the client id they gave (tab id, script name)."""

    role: Role
    client_id: str | None


def install_access_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def access(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path in _OPEN_PATHS:
            request.state.role = Role.OPERATOR
            return await call_next(request)
        policy: AccessPolicy = request.app.state.access
        decision = policy.check(
            host_header=request.headers.get("host"),
            origin=request.headers.get("origin"),
            method=request.method,
            authorization=request.headers.get("authorization"),
            query_token=request.query_params.get(QUERY_PARAM),
            cookie_token=request.cookies.get(policy.cookie_name),
        )
        if not decision.allowed:
            return JSONResponse({"detail": decision.reason}, status_code=decision.status)
        request.state.role = decision.role
        if decision.set_cookie and decision.token:
            secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
            if request.method == "GET" and request.url.path in _PAGE_PATHS:
                # drop the token from the address bar (and from history) once the cookie holds it
                clean = request.url.remove_query_params(QUERY_PARAM)
                response: Response = RedirectResponse(str(clean), status_code=303)
            else:
                response = await call_next(request)
            response.set_cookie(**policy.cookie_settings(decision.token, secure=secure))
            return response
        return await call_next(request)


async def admit_websocket(websocket: WebSocket) -> Caller | None:
    """Check a WebSocket handshake before accepting it; closes it (1008) and returns None if refused."""
    policy: AccessPolicy = websocket.app.state.access
    decision = policy.check(
        host_header=websocket.headers.get("host"),
        origin=websocket.headers.get("origin"),
        websocket=True,
        authorization=websocket.headers.get("authorization"),
        query_token=websocket.query_params.get(QUERY_PARAM),
        cookie_token=websocket.cookies.get(policy.cookie_name),
    )
    if not decision.allowed or decision.role is None:
        # accept, then close with the reason: a refused handshake would reach the page as a bare 403
        await websocket.accept()
        await websocket.close(code=1008, reason=decision.reason[:120])
        return None
    client_id = websocket.query_params.get("client") or None
    problem = client_id_problem(client_id) if client_id is not None else None
    if problem is not None:  # refused before it can reach the lease
        await websocket.accept()
        reason = f"?client=: {problem}".encode()[:120].decode(errors="ignore")  # a close reason fits 123 bytes
        await websocket.close(code=1008, reason=reason)
        return None
    return Caller(decision.role, client_id)


def authorize_command(app: Any, caller: Caller, name: str, source: str) -> AccessRefusal | None:
    """None when the command may go to the session; otherwise the refusal (403 viewer, 423 lease)."""
    lease: OperatorLease = app.state.lease
    host: ConsoleHost = app.state.host
    verdict = lease.authorize(caller.client_id, name, source=source, role=caller.role.value)
    if verdict.allowed:
        return None
    status = 403 if caller.role is not Role.OPERATOR else 423
    return AccessRefusal(status, host.phase, verdict.reason)
