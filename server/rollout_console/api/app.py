"""create_app: the FastAPI application around one Session (no module-level app or settings)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..config import RolloutConsoleConfig
from ..runtime.builder import build_session
from ..runtime.session import Session
from .preview import PreviewHubs
from .routes import cameras, commands, health, session as session_routes, ws
from .status_cache import StatusCache
from .web import router as web_router, web_dir

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(config: RolloutConsoleConfig, session: Session | None = None, *, start_session: bool = True) -> FastAPI:
    """Build the app; the lifespan starts the session and stops it cleanly on shutdown.

    Pass ``session`` to serve an existing one (tests, notebooks); ``start_session=False`` when the
    caller starts and stops it itself.
    """
    the_session = session or build_session(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if start_session:
            the_session.start()
        try:
            yield
        finally:
            app.state.hubs.close()
            if start_session:
                import asyncio

                await asyncio.to_thread(the_session.shutdown)

    app = FastAPI(
        title="rollout-console",
        version=__version__,
        description="Operator console API: session status, commands, events and camera previews.",
        lifespan=lifespan,
    )
    app.state.session = the_session
    app.state.config = config
    app.state.hubs = PreviewHubs(the_session.cameras, quality=config.server.preview_jpeg_quality)
    app.state.status_cache = StatusCache(the_session, app.state.hubs)
    app.include_router(health.router)
    app.include_router(session_routes.router)
    app.include_router(commands.router)
    app.include_router(ws.router)
    app.include_router(cameras.router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=str(web_dir() / "static")), name="static")
    return app
