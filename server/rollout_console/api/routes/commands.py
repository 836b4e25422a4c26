"""POST /api/v1/commands/{name}: one route per command (so the OpenAPI shows each body)."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ...protocol.commands import COMMAND_NAMES, COMMANDS, CommandResult, args_of
from ...runtime.host import ConsoleHost
from ..access import AccessRefusal, Caller, authorize_command
from ..client_id import ClientIdHeader, checked_client_id, client_id_openapi
from ..deps import HostDep
from ..outcomes import http_status
from ..schemas import BODY_RESPONSES, CommandAccepted, ErrorDetail

__all__ = ["router", "to_response"]

router = APIRouter(prefix="/api/v1/commands", tags=["commands"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    **BODY_RESPONSES,
    202: {"model": CommandAccepted, "description": "Applied; its outcome (a save) is not confirmed yet"},
    403: {"model": ErrorDetail, "description": "Viewers may only send estop"},
    409: {"model": ErrorDetail, "description": "Not valid in the current phase (the reason is in detail); while "
                                               "idle every command but estop"},
    423: {"model": ErrorDetail, "description": "Another client holds control; detail names the holder"},
    503: {"model": ErrorDetail, "description": "The control loop did not apply the command in time"},
}


def to_response(result: CommandResult | AccessRefusal) -> JSONResponse | CommandAccepted:
    """The HTTP answer to a command (the status comes from the outcome, mapped in ``api/outcomes.py``)."""
    if isinstance(result, AccessRefusal):
        return JSONResponse(status_code=result.status, content={"detail": result.detail})
    status = http_status(result.outcome)
    if result.accepted and status != 200:
        return JSONResponse(status_code=status, content=result.to_dict())
    if result.accepted:
        return CommandAccepted(phase=result.phase.value, detail=result.detail, outcome=result.outcome.value)
    return JSONResponse(status_code=status, content={"detail": result.detail, "outcome": result.outcome.value})


def _make_endpoint(name: str, model: type[BaseModel]) -> Any:
    async def endpoint(request: Request, host: ConsoleHost, body: BaseModel | None = None,
                       x_client_id: str | None = None) -> Any:
        x_client_id = checked_client_id(x_client_id, required=False)
        args = args_of(body)
        source = f"rest:{x_client_id}" if x_client_id else "rest"
        refusal = authorize_command(request.app, Caller(request.state.role, x_client_id), name, source)
        result = refusal or await host.submit_async(name, args, source=source)
        return to_response(result)

    # Resolved annotations (the module uses postponed annotations, FastAPI needs real types here).
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
            inspect.Parameter("host", inspect.Parameter.KEYWORD_ONLY, annotation=HostDep),
            inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=Annotated[Optional[model], Body()]),  # noqa: UP045
            inspect.Parameter("x_client_id", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=ClientIdHeader),
        ]
    )
    endpoint.__name__ = f"command_{name}"
    endpoint.__doc__ = COMMANDS[name].help
    return endpoint


for _name in COMMAND_NAMES:
    router.add_api_route(
        f"/{_name}",
        _make_endpoint(_name, COMMANDS[_name].args),
        methods=["POST"],
        response_model=CommandAccepted,
        responses=_RESPONSES,
        operation_id=f"command-{_name}",
        summary=COMMANDS[_name].help,
        openapi_extra=client_id_openapi(required=False, description="Identifies the calling client (events, lease)"),
    )


@router.post("/{name}", status_code=404, responses={**BODY_RESPONSES, 404: {"model": ErrorDetail}},
             operation_id="command-unknown")
async def unknown_command(name: str) -> JSONResponse:
    """Any other name is not a command."""
    return JSONResponse(status_code=404, content={"detail": f"unknown command {name[:64]!r}; commands: "
                                                            + ", ".join(COMMAND_NAMES)})
