"""create_app: the FastAPI application around one Session (no module-level app or settings)."""

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
from ..inputs import FootPedal
from ..runtime.builder import build_session
from ..protocol.phases import MOVING
from ..runtime.session import Session
from .access import install_access_middleware
from .auth import AccessPolicy
from .body_guard import BodyGuard
from .errors import install_error_handlers
from .lease import LeaseChange, OperatorLease
from .metrics import install_metrics
from .preview import PreviewHubs
from .routes import cameras, commands, evaluation, health, teleop, ws
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
) -> FastAPI:
    """Build the app; the lifespan starts the lease watcher and the pedal (and the session).

    Pass ``session`` to serve an existing one (tests, notebooks); ``start_session=False`` when the
    caller starts and stops the session itself (the CLI does, to fail before binding the server).
    ``pedal_opener`` replaces how the pedal's device is opened (tests feed real evdev events).
    """
    the_session = session or build_session(config)
    the_access = access or AccessPolicy.from_host(config.server.host, config.server.port, config=config.server.auth)
    lease = OperatorLease(config.lease, on_change=lambda change: _lease_changed(the_session, change))
    the_pedal = _make_pedal(config, the_session, pedal_opener)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_session:
            the_session.start()
        lease.start()
        if the_pedal is not None:
            the_pedal.start()
        try:
            yield
        finally:
            if the_pedal is not None:
                the_pedal.stop()
            lease.stop()
            app.state.metrics.close()
            app.state.hubs.close()
            if start_session:
                await asyncio.to_thread(the_session.shutdown)

    app = FastAPI(
        title="rollout-console",
        version=__version__,
        description="Operator console API: session status, commands, events, the operator lease and camera previews.",
        lifespan=lifespan,
    )
    app.state.session = the_session
    app.state.config = config
    app.state.access = the_access
    app.state.lease = lease
    app.state.pedal = the_pedal
    app.state.hubs = PreviewHubs(the_session.cameras, quality=config.server.preview_jpeg_quality)
    app.state.status_cache = StatusCache(
        the_session, app.state.hubs, extras={"inputs": lambda: _inputs_status(the_pedal), "lease": lease.snapshot}
    )
    install_error_handlers(app)
    # added before the access middleware, so it runs inside it: refused callers never get a body read
    app.add_middleware(BodyGuard, max_bytes=config.server.max_body_bytes)
    install_access_middleware(app)
    for module in (health, session_routes, commands, lease_routes, teleop, ws, cameras, evaluation):
        app.include_router(module.router)
    app.include_router(web_router)
    install_metrics(app, the_session, app.state.hubs)
    app.mount("/static", StaticFiles(directory=str(web_dir() / "static")), name="static")
    return app


def _make_pedal(config: RolloutConsoleConfig, session: Session, opener: Any) -> FootPedal | None:
    if not config.pedal.enabled:
        return None
    return FootPedal(
        config.pedal,
        submit=lambda name, args=None, source="pedal": session.submit(name, args, source=source),
        phase=lambda: session.phase,
        opener=opener,
        on_status=lambda status: session.events.publish("pedal", state=status["state"], message=status["message"],
                                                        fix=status["fix"]),
    )


def _inputs_status(pedal: FootPedal | None) -> dict[str, Any]:
    return {"pedal": pedal.status() if pedal is not None else {"state": "disabled"}}


def _lease_changed(session: Session, change: LeaseChange) -> None:
    """Announce lease changes; a lapse (or release, or forced take-over) pauses a moving robot.

    The pause carries its reason as ``notice``: ``status.notice`` keeps it until the operator resumes, so
    every page, including one that connects later, shows why the robot is paused.
    """
    session.events.publish("lease", **change.to_dict())
    if change.pause and session.phase in MOVING:
        notice = f"paused: {change.detail}; resume when ready"
        session.submit_nowait("pause", {"notice": notice}, source="lease")
