"""FastAPI dependencies and their Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..runtime.session import Session
from .preview import PreviewHubs
from .status_cache import StatusCache

__all__ = ["HubsDep", "SessionDep", "StatusDep"]


def get_session(request: Request) -> Session:
    return request.app.state.session


def get_hubs(request: Request) -> PreviewHubs:
    return request.app.state.hubs


def get_status_cache(request: Request) -> StatusCache:
    return request.app.state.status_cache


SessionDep = Annotated[Session, Depends(get_session)]
HubsDep = Annotated[PreviewHubs, Depends(get_hubs)]
StatusDep = Annotated[StatusCache, Depends(get_status_cache)]
