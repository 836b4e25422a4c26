"""Liveness."""

from __future__ import annotations

from fastapi import APIRouter

from ... import __version__
from ..deps import HostDep
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, operation_id="health")
def healthz(host: HostDep) -> Health:
    """Always 200 while the server runs; ``ok`` is false while a session is stopped or failed (true when idle)."""
    phase = host.phase.value
    return Health(ok=phase not in ("stopped", "error"), phase=phase, version=__version__)
