"""POST /api/v1/commands/{name}: one route per command (so the OpenAPI shows each body), built from the
command table (``protocol.commands.COMMANDS``); GET /api/v1/commands publishes that table and the toggles."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Optional

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ...protocol.commands import COMMAND_NAMES, COMMANDS, CommandResult, args_of
from ...protocol.toggles import toggles_table
from ...runtime.host import ConsoleHost
from ..access import AccessRefusal, Caller, authorize_command
from ..client_id import ClientIdHeader, checked_client_id, client_id_openapi
from ..deps import HostDep
from ..outcomes import http_status
from ..schemas import BODY_RESPONSES, CommandAccepted, ErrorDetail

__all__ = ["CommandInfo", "CommandsPublic", "router", "to_response"]

router = APIRouter(prefix="/api/v1/commands", tags=["commands"])


class CommandInfo(BaseModel):
    command: str = Field(description="The command's name (its route is POST /api/v1/commands/<command>)")
    help: str = Field(description="What the command does, as an operator reads it")
    label: str = Field(description="The command's operator-facing name (the page's button text), e.g. 'Clear E-STOP'")
    args_schema: dict[str, object] = Field(description="JSON Schema of the command's arguments (its body)")
    available: bool = Field(description="This session's strategy has the command")


class CommandsPublic(BaseModel):
    data: list[CommandInfo]
    count: int
    toggles: dict[str, object] = Field(
        description="What each toggle input (pedal, page hotkey) sends per phase: "
                    "{toggle: {label, needs, phases: {phase: {command, args}}}}; the pedal uses the same table")


@router.get("", response_model=CommandsPublic, operation_id="commands-list")
def list_commands(host: HostDep) -> CommandsPublic:
    """Every command with its help text and argument schema, and the toggle table (see docs/api.md).

    ``available`` is for the current session's strategy; while idle only ``estop`` is (it changes nothing).
    """
    session = host.session
    have = set(session.describe().commands) if session is not None else {"estop"}
    data = [CommandInfo(command=name, help=spec.help, label=spec.label, args_schema=spec.args.model_json_schema(),
                        available=name in have) for name, spec in COMMANDS.items()]
    return CommandsPublic(data=data, count=len(data), toggles=toggles_table())

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
