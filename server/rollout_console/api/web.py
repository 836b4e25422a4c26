"""Serves the operator page (jinja2 template) and its static ES modules and CSS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .. import __version__
from ..protocol.commands import COMMAND_NAMES, COMMANDS
from ..runtime.host import ConsoleHost
from ..runtime.session import Session
from .page_commands import command_groups, stop_plan
from .session_choices import ENGINE_CHOICES, RECORD_MODES, STRATEGY_CHOICES, builtin_policy_names

__all__ = ["router", "web_dir"]


def web_dir() -> Path:
    """``web/`` inside the installed wheel, or at the repository root in a development checkout."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[1] / "web", here.parents[3] / "web"):
        if (candidate / "templates").is_dir():
            return candidate
    raise RuntimeError("rollout-console: the web/ directory is missing from this installation")


templates = Jinja2Templates(directory=str(web_dir() / "templates"))
templates.env.globals["command_groups"] = command_groups
router = APIRouter(include_in_schema=False)


def _context(session: Session) -> dict[str, Any]:
    about = session.describe()
    leader = about.leader
    limits = leader.joint_limits if leader is not None and about.corrects_with_leader else {}
    return {
        "version": __version__,
        "session_id": about.id,
        "strategy": about.strategy,
        "cameras": list(about.cameras),
        "commands": [c for c in COMMAND_NAMES if c in about.commands],
        "command_help": {name: spec.help for name, spec in COMMANDS.items()},
        "command_labels": {name: spec.label for name, spec in COMMANDS.items()},
        "joints": list(about.joints),
        "recording": about.records,
        "leader_limits": limits,
        "stop_plan": stop_plan(session),
    }


def _idle_context(host: ConsoleHost, tablet: bool) -> dict[str, Any]:
    return {
        "version": __version__,
        "session_id": "",
        "tablet": tablet,
        "cameras": list(host.cameras),
        "strategies": list(STRATEGY_CHOICES),
        "record_modes": list(RECORD_MODES),
        "engines": list(ENGINE_CHOICES),
        "builtins": builtin_policy_names(),
    }


def _page(request: Request, template: str, tablet: bool) -> Any:
    host: ConsoleHost = request.app.state.host
    session = host.session
    if session is None:
        return templates.TemplateResponse(request, "idle.html", _idle_context(host, tablet))
    return templates.TemplateResponse(request, template, _context(session))


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Any:
    """The operator page (desktop); while no session runs, the New session form and the past sessions."""
    return _page(request, "index.html", tablet=False)


@router.get("/tablet", response_class=HTMLResponse)
def tablet(request: Request) -> Any:
    """The touch-first intervention view (large buttons, phase colours; 768x1024 and up)."""
    return _page(request, "tablet.html", tablet=True)
