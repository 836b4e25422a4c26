"""Operator lease: one controlling client at a time; heartbeats keep it; other clients watch.

Identify yourself with the ``X-Client-Id`` header (the page uses a random id per tab). While nobody
holds the lease, plain HTTP commands are accepted (scripts need no lease); while someone does, other
clients' commands get 423 naming the holder (``estop`` is always accepted).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..auth import Role
from ..client_id import ClientIdHeader, checked_client_id, client_id_openapi
from ..lease import CLIENT_ID_MAX_LENGTH, CLIENT_ID_PATTERN, LeaseResult, OperatorLease, client_id_problem
from ...protocol.replies import LeaseAnswer
from ..schemas import BODY_RESPONSES, ErrorDetail

__all__ = ["LeaseAnswer", "LeaseBody", "router"]

router = APIRouter(prefix="/api/v1/lease", tags=["lease"])

ClientId = ClientIdHeader
_REQUIRED_ID = client_id_openapi(required=True, description="Your client id (required for lease operations)")


class LeaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(None, description="Name shown to other clients (e.g. 'tablet by the robot')")
    force: bool = Field(False, description="acquire: take control from the current holder")
    accept: bool = Field(True, description="respond: accept or refuse a pending request")
    to: str | None = Field(None, description="transfer: the client id to hand control to",
                           min_length=1, max_length=CLIENT_ID_MAX_LENGTH, pattern=CLIENT_ID_PATTERN)

    @field_validator("to", mode="before")
    @classmethod
    def _to_follows_the_id_rule(cls, value: object) -> object:
        if isinstance(value, str) and (problem := client_id_problem(value)) is not None:
            raise ValueError(f"'to' {problem}")  # the rule in words, not only the pattern
        return value


def _lease(request: Request) -> OperatorLease:
    return request.app.state.lease


def _need(client_id: str | None, request: Request) -> str:
    if getattr(request.state, "role", Role.OPERATOR) is not Role.OPERATOR:
        raise HTTPException(403, "viewers cannot take control; open the console with the operator token")
    return checked_client_id(client_id, required=True)  # type: ignore[return-value]


def _answer(result: LeaseResult) -> Any:
    body = {"ok": result.ok, "reason": result.reason, "holder": result.holder}
    return body if result.ok else JSONResponse(body, status_code=result.status)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    **BODY_RESPONSES,
    400: {"model": ErrorDetail, "description": "Missing or malformed X-Client-Id (the rule is in detail), "
                                               "or a body that is not UTF-8"},
    403: {"model": ErrorDetail, "description": "Viewers cannot hold control"},
    409: {"model": LeaseAnswer, "description": "You do not hold control (the reason says why)"},
    423: {"model": LeaseAnswer, "description": "Another client holds control (named in reason and holder)"},
}


@router.get("", operation_id="lease-get",
            responses={400: {"model": ErrorDetail, "description": "Malformed X-Client-Id (the rule is in detail)"}},
            openapi_extra=client_id_openapi(required=False, description="Your client id (sets `yours`)"))
def lease_state(request: Request, x_client_id: ClientId = None) -> dict[str, Any]:
    """Who holds control; ``yours`` tells whether it is the caller."""
    return _lease(request).snapshot(viewer_id=checked_client_id(x_client_id, required=False))


@router.post("/acquire", response_model=LeaseAnswer, responses=_RESPONSES, operation_id="lease-acquire",
             openapi_extra=_REQUIRED_ID)
def acquire(request: Request, body: LeaseBody | None = None, x_client_id: ClientId = None) -> Any:
    """Take control if nobody holds it (or renew yours); ``force`` takes it from the holder."""
    body = body or LeaseBody()
    return _answer(_lease(request).acquire(_need(x_client_id, request), body.label, force=body.force))


@router.post("/heartbeat", response_model=LeaseAnswer, responses=_RESPONSES, operation_id="lease-heartbeat",
             openapi_extra=_REQUIRED_ID)
def heartbeat(request: Request, x_client_id: ClientId = None) -> Any:
    """Keep control; without a heartbeat for --lease.timeout_s the lease lapses and a moving robot pauses."""
    return _answer(_lease(request).heartbeat(_need(x_client_id, request)))


@router.post("/release", response_model=LeaseAnswer, responses=_RESPONSES, operation_id="lease-release",
             openapi_extra=_REQUIRED_ID)
def release(request: Request, x_client_id: ClientId = None) -> Any:
    """Give control up (a moving robot pauses, --lease.pause_on_release)."""
    return _answer(_lease(request).release(_need(x_client_id, request)))


@router.post("/request", response_model=LeaseAnswer, responses=_RESPONSES, operation_id="lease-request",
             openapi_extra=_REQUIRED_ID)
def request_control(request: Request, body: LeaseBody | None = None, x_client_id: ClientId = None) -> Any:
    """Ask the holder to hand control over (granted at once when nobody holds it)."""
    body = body or LeaseBody()
    return _answer(_lease(request).request(_need(x_client_id, request), body.label))


@router.post("/respond", response_model=LeaseAnswer, responses=_RESPONSES, operation_id="lease-respond",
             openapi_extra=_REQUIRED_ID)
def respond(request: Request, body: LeaseBody | None = None, x_client_id: ClientId = None) -> Any:
    """The holder accepts (hands over) or refuses a pending request."""
    body = body or LeaseBody()
    return _answer(_lease(request).respond(_need(x_client_id, request), body.accept))


@router.post("/transfer", response_model=LeaseAnswer, responses=_RESPONSES, operation_id="lease-transfer",
             openapi_extra=_REQUIRED_ID)
def transfer(request: Request, body: LeaseBody | None = None, x_client_id: ClientId = None) -> Any:
    """The holder hands control to another client id."""
    body = body or LeaseBody()
    client = _need(x_client_id, request)
    if not body.to:
        issue = {"type": "missing", "loc": ["body", "to"], "msg": "transfer needs 'to': the client id to hand control to",
                 "input": None}
        return JSONResponse({"detail": [issue]}, status_code=422)  # the ValidationProblem shape
    return _answer(_lease(request).transfer(client, body.to, body.label))
