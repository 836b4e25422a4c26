"""Sessions as a resource: start one (``POST``), list them, read one. Stopping is the ``stop`` command.

The body of ``POST /api/v1/sessions`` is the session part of the configuration (the same models as the
command line and ``GET /api/v1/config``); fields left out take the command line's values. Machine fields
(server, robot, teleop, pedal, lease, loop) and paths outside ``--server.data_dir`` /
``--server.policies_dir`` are refused with 422 naming the field. Only an operator may start a session
(viewers 403; 423 while another client holds control).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import JSONResponse

from ...config.session import MACHINE_FIELDS, SESSION_FIELDS, SessionConfigError, config_for_session
from ...errors import ConfigError, ConsoleError, RecordingError
from ...protocol.sessions import SessionList, SessionRecord
from ...runtime.host import SessionBusy
from ..access import Caller, authorize_command
from ..client_id import ClientIdHeader, checked_client_id, client_id_openapi
from ..deps import HostDep
from ..errors import clean_issues
from ..schemas import BODY_RESPONSES, ErrorDetail, ValidationProblem

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"])

_EXAMPLE = {"strategy": {"type": "dagger", "record": "corrections"}, "policy": {"path": "builtin:sim_flow"},
            "inference": {"type": "rtc"}, "task": "put the cube on the target",
            "dataset": {"repo_id": "me/corrections", "push_to_hub": False}, "fps": 30}

_POST_RESPONSES: dict[int | str, dict[str, Any]] = {
    **BODY_RESPONSES,
    403: {"model": ErrorDetail, "description": "Viewers cannot start sessions"},
    409: {"model": ErrorDetail, "description": "A session is running (stop it first) or starting, or the server "
                                               "is shutting down"},
    422: {"model": ValidationProblem, "description": "A bad or refused field; each issue's loc names it, e.g. "
                                                     '["body", "dataset", "root"]'},
    423: {"model": ErrorDetail, "description": "Another client holds control; detail names the holder"},
    503: {"model": ErrorDetail, "description": "The session was built but its hardware or engine failed to start"},
}


def _problem(issues: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": clean_issues(issues)})


def _flag_issue(exc: ConfigError | RecordingError | ValueError) -> dict[str, Any]:
    """A build-time refusal (a dataset that exists, a checkpoint that is missing) as one issue."""
    flag = getattr(exc, "flag", None)
    loc: list[str | int] = ["body", *(flag.removeprefix("--").split(".") if flag else [])]
    message = str(exc)
    if flag and message.startswith(f"{flag}: "):
        message = message[len(flag) + 2:]
    return {"type": "value_error", "loc": loc, "msg": message}


@router.post(
    "",
    status_code=201,
    response_model=SessionRecord,
    responses=_POST_RESPONSES,
    operation_id="session-start",
    openapi_extra=client_id_openapi(required=False, description="Your client id (lease holder identity)"),
)
def start_session(
    request: Request,
    host: HostDep,
    body: Annotated[dict[str, Any] | None, Body(description="The session part of the configuration: "
                                                     + ", ".join(SESSION_FIELDS) + ". Fields left out take the "
                                                     "command line's values; " + ", ".join(MACHINE_FIELDS)
                                                     + " are fixed by the command line.",
                                         examples=[_EXAMPLE])] = None,
    x_client_id: ClientIdHeader = None,
) -> Any:
    """Start a session (only while none runs). Answers once it runs, with its record (201)."""
    x_client_id = checked_client_id(x_client_id, required=False)
    source = f"rest:{x_client_id}" if x_client_id else "rest"
    refusal = authorize_command(request.app, Caller(request.state.role, x_client_id), "start_session", source)
    if refusal is not None:
        raise HTTPException(refusal.status, refusal.detail)
    if host.session is not None:  # say so before validating: the answer does not depend on the body
        raise HTTPException(409, f"session {host.session.id} is running; stop it first")
    try:
        config = config_for_session(host.config, body or {})
    except SessionConfigError as exc:
        return _problem(exc.issues)
    try:
        session = host.start_session(config)
    except SessionBusy as exc:
        raise HTTPException(409, str(exc)) from exc
    except (ConfigError, RecordingError, ValueError) as exc:  # refused while building: nothing started
        return _problem([_flag_issue(exc)])
    except ConsoleError as exc:
        raise HTTPException(503, f"the session did not start: {exc}") from exc
    record = host.record(session.id)
    return JSONResponse(status_code=201, content=record, headers={"Location": f"/api/v1/sessions/{session.id}"})


@router.get("", response_model=SessionList, operation_id="sessions")
def list_sessions(host: HostDep) -> dict[str, Any]:
    """Past and current sessions, oldest first (kept across restarts under --server.data_dir)."""
    records = host.records()
    return {"data": records, "count": len(records)}


@router.get("/{session_id}", response_model=SessionRecord, operation_id="session",
            responses={404: {"model": ErrorDetail, "description": "No session with this id"}})
def get_session(session_id: str, host: HostDep) -> dict[str, Any]:
    """One session's record."""
    record = host.record(session_id)
    if record is None:
        raise HTTPException(404, f"no session {session_id[:64]!r}")
    return record
