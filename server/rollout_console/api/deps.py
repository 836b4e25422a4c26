"""FastAPI dependencies and their Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ..runtime.host import ConsoleHost
from ..runtime.session import Session
from .preview import PreviewHubs
from .status_cache import StatusCache

__all__ = ["HostDep", "HubsDep", "SessionDep", "StatusDep"]

NO_SESSION_YET = "no session has run yet on this server; start one (POST /api/v1/sessions, or the page's New session)"


def get_host(request: Request) -> ConsoleHost:
    return request.app.state.host


def get_session(request: Request) -> Session:
    """The running session; while idle, the one that ran last (its dataset, episodes and config stay readable)."""
    session = get_host(request).last_session
    if session is None:
        raise HTTPException(404, NO_SESSION_YET)
    return session


def get_hubs(request: Request) -> PreviewHubs:
    return request.app.state.hubs


def get_status_cache(request: Request) -> StatusCache:
    return request.app.state.status_cache


HostDep = Annotated[ConsoleHost, Depends(get_host)]
SessionDep = Annotated[Session, Depends(get_session)]
HubsDep = Annotated[PreviewHubs, Depends(get_hubs)]
StatusDep = Annotated[StatusCache, Depends(get_status_cache)]
