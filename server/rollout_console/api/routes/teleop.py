"""The leader arm from the page or a script: joint targets, a fingertip position, or a drag on the top camera."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ...errors import CommandRejected
from ...runtime.host import IDLE_DETAIL, ConsoleHost
from ..access import Caller, authorize_command
from ..client_id import ClientIdHeader, checked_client_id, client_id_openapi
from ..schemas import BODY_RESPONSES, ErrorDetail

router = APIRouter(prefix="/api/v1/teleop", tags=["teleop"])


class Tip(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: float = Field(description="metres forward of the base")
    y: float = Field(description="metres to the left")
    z: float | None = Field(None, description="metres above the table (default: keep the current height)")


class Pixel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    camera: str = Field(description="camera the point was picked on (the sim's 'top' view)")
    u: float = Field(ge=0, le=1, description="horizontal position, 0 = left edge, 1 = right edge")
    v: float = Field(ge=0, le=1, description="vertical position, 0 = top edge, 1 = bottom edge")


class TeleopBody(BaseModel):
    """Exactly one of ``joints``, ``tip`` or ``pixel``; ``gripper`` alone or with tip/pixel."""

    model_config = ConfigDict(extra="forbid")
    joints: dict[str, float] | None = Field(None, description='targets, e.g. {"elbow_flex.pos": 80}')
    tip: Tip | None = None
    pixel: Pixel | None = None
    gripper: float | None = Field(None, ge=0, le=100, description="0 closed .. 100 open")

    @model_validator(mode="after")
    def _one_target(self) -> TeleopBody:
        given = [name for name in ("joints", "tip", "pixel") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of joints, tip or pixel (got {', '.join(given)})")
        if not given and self.gripper is None:
            raise ValueError("give joints, tip, pixel or gripper")
        return self


def apply_teleop(app: Any, caller: Caller, body: TeleopBody, source: str) -> dict[str, Any]:
    """Shared by REST and the control WebSocket; raises HTTPException with the reason."""
    refusal = authorize_command(app, caller, "teleop", source)
    if refusal is not None:
        raise HTTPException(refusal.status, refusal.detail)
    host: ConsoleHost = app.state.host
    session = host.session
    if session is None:
        raise HTTPException(409, IDLE_DETAIL)
    try:
        return session.move_leader(
            joints=body.joints,
            tip=(body.tip.x, body.tip.y, body.tip.z) if body.tip else None,
            gripper=body.gripper,
            pixel=(body.pixel.camera, body.pixel.u, body.pixel.v) if body.pixel else None,
            source=source,
        )
    except CommandRejected as exc:
        raise HTTPException(409, str(exc)) from exc


@router.get("", operation_id="teleop-get", responses={404: {"description": "No leader arm"}})
def teleop_state(request: Request) -> dict[str, Any]:
    """The leader arm's joints, targets and fingertip, and the handover state."""
    status = request.app.state.status_cache.get()
    if "teleop" not in status:
        idle = status.get("session_id") is None
        raise HTTPException(404, f"{IDLE_DETAIL} (the leader is read through a session)" if idle
                            else "this session has no leader arm")
    return status["teleop"]


@router.put("", operation_id="teleop-move",
            responses={**BODY_RESPONSES,
                       403: {"model": ErrorDetail, "description": "Viewers cannot move the leader"},
                       409: {"model": ErrorDetail,
                             "description": "No drivable leader, the expert drives it, or out of reach"},
                       423: {"model": ErrorDetail, "description": "Another client holds control"}},
            openapi_extra=client_id_openapi(required=False, description="Your client id (lease holder identity)"))
def move(request: Request, body: TeleopBody, x_client_id: ClientIdHeader = None) -> dict[str, Any]:
    """Move the leader arm (the follower copies it while correcting)."""
    x_client_id = checked_client_id(x_client_id, required=False)
    source = f"rest:{x_client_id}" if x_client_id else "rest"
    return apply_teleop(request.app, Caller(request.state.role, x_client_id), body, source)
