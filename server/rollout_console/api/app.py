"""create_app: the FastAPI application around one ConsoleHost (no module-level app or settings)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..config import RolloutConsoleConfig
from ..inputs.attach import attach_inputs
from ..runtime.builder import build_session
from ..protocol.phases import MOVING
from ..runtime.host import ConsoleHost
from ..runtime.session import Session
from .access import install_access_middleware
from .auth import AccessPolicy
from .body_guard import BodyGuard
from .errors import install_error_handlers
from .lease import LeaseChange, OperatorLease
from .metrics import install_metrics
from .preview import PreviewHubs
from .routes import cameras, commands, evaluation, health, sessions, teleop, ws
from .routes import lease as lease_routes
from .routes import session as session_routes
from .status_cache import StatusCache
from .web import router as web_router
from .web import web_dir

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(
    config: RolloutConsoleConfig,
    session: Session | None = None,
    *,
    start_session: bool = True,
    access: AccessPolicy | None = None,
    pedal_opener: Any = None,
    host: ConsoleHost | None = None,
) -> FastAPI:
    """Build the app around a ConsoleHost (the server-level owner of hardware, events and sessions).

    Pass ``host`` to serve one built elsewhere (the CLI does: it owns the host, its inputs and its
    shutdown). Otherwise a host is made here, adopting ``session`` (tests, notebooks) or building the
    first session from ``config``, with the inputs of ``config`` attached; ``pedal_opener`` replaces how
    the pedal's device is opened (tests feed real evdev events). ``start_session=False``: the caller
    starts and closes the host itself.
    """
    if host is None:
        host = ConsoleHost(config, session=session or build_session(config))
        attach_inputs(host, config, pedal_opener=pedal_opener)
    the_host = host
    the_access = access or AccessPolicy.from_host(config.server.host, config.server.port, config=config.server.auth)
    lease = OperatorLease(config.lease, on_change=lambda change: _lease_changed(the_host, change))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_session:
            the_host.start()
        lease.start()
        try:
            yield
        finally:
            lease.stop()
            app.state.metrics.close()
            app.state.hubs.close()
            if start_session:
                await asyncio.to_thread(the_host.close)

    app = FastAPI(
        title="rollout-console",
        version=__version__,
        description="Operator console API: sessions, status, commands, events, the operator lease and camera "
        "previews.",
        lifespan=lifespan,
    )
    app.state.host = the_host
    app.state.config = config
    app.state.access = the_access
    app.state.lease = lease
    app.state.hubs = PreviewHubs(the_host.cameras, quality=config.server.preview_jpeg_quality)
    app.state.status_cache = StatusCache(
        the_host, app.state.hubs, extras={"inputs": the_host.inputs_status, "lease": lease.snapshot}
    )
    install_error_handlers(app)
    # added before the access middleware, so it runs inside it: refused callers never get a body read
    app.add_middleware(BodyGuard, max_bytes=config.server.max_body_bytes)
    install_access_middleware(app)
    for module in (health, sessions, session_routes, commands, lease_routes, teleop, ws, cameras, evaluation):
        app.include_router(module.router)
    app.include_router(web_router)
    install_metrics(app, the_host, app.state.hubs)
    app.mount("/static", StaticFiles(directory=str(web_dir() / "static")), name="static")
    return app


def _lease_changed(host: ConsoleHost, change: LeaseChange) -> None:
    """Announce lease changes; a lapse (or release, or forced take-over) pauses a moving robot.

    The pause carries its reason as ``notice``: ``status.notice`` keeps it until the operator resumes, so
    every page, including one that connects later, shows why the robot is paused.
    """
    host.events.publish("lease", **change.to_dict())
    if change.pause and host.phase in MOVING:
        notice = f"paused: {change.detail}; resume when ready"
        host.submit_nowait("pause", {"notice": notice}, source="lease")
