"""Serves the operator page (jinja2 template) and its static ES modules and CSS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .. import __version__
from ..protocol.commands import COMMAND_NAMES, COMMANDS

__all__ = ["router", "web_dir"]


def web_dir() -> Path:
    """``web/`` inside the installed wheel, or at the repository root in a development checkout."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[1] / "web", here.parents[3] / "web"):
        if (candidate / "templates").is_dir():
            return candidate
    raise RuntimeError("rollout-console: the web/ directory is missing from this installation")


templates = Jinja2Templates(directory=str(web_dir() / "templates"))
router = APIRouter(include_in_schema=False)


def _context(session: Any) -> dict[str, Any]:
    teleop = session.ctx.teleop
    limits = getattr(teleop, "joint_limits", None) if session.strategy.name == "dagger" else None
    return {
        "version": __version__,
        "strategy": session.strategy.name,
        "cameras": list(session.cameras),
        "commands": [c for c in COMMAND_NAMES if c in session.strategy.commands],
        "command_help": {name: spec.help for name, spec in COMMANDS.items()},
        "joints": list(session.ctx.layout.state_names),
        "recording": session.recording is not None,
        "leader_limits": limits or {},
    }


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Any:
    """The operator page (desktop)."""
    return templates.TemplateResponse(request, "index.html", _context(request.app.state.session))


@router.get("/tablet", response_class=HTMLResponse)
def tablet(request: Request) -> Any:
    """The touch-first intervention view (large buttons, phase colours; 768x1024 and up)."""
    return templates.TemplateResponse(request, "tablet.html", _context(request.app.state.session))
