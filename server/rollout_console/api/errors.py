"""Error replies that always serialise, never echo much of the input, and match the OpenAPI.

* 422: FastAPI's shape (``{"detail": [{"type", "loc", "msg", "input"?, "ctx"?}]}``), but ``input`` is
  echoed only when it is small, finite JSON (a non-finite number or a megabyte of input made the stock
  handler fail with a 500 or send the whole body back);
* 405: ``Allow`` lists every method the OpenAPI documents for the path, not only those of the first
  route that matched it (``OPTIONS /api/v1/teleop`` answered ``Allow: GET`` without ``PUT``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["MAX_ECHO_CHARS", "clean_issues", "install_error_handlers"]

MAX_ECHO_CHARS = 200
"""Longest input (as JSON) echoed back in a validation error."""


def _echo(value: Any) -> Any:
    try:
        text = json.dumps(jsonable_encoder(value), allow_nan=False)
    except (TypeError, ValueError):  # non-finite numbers, undecodable bytes
        return "<not echoed: not finite JSON>"
    if len(text) > MAX_ECHO_CHARS:
        return f"<not echoed: {len(text)} characters>"
    return json.loads(text)


def clean_issues(errors: Any) -> list[dict[str, Any]]:
    """Pydantic/FastAPI error dicts as safe JSON: type, loc, msg, a bounded input, ctx as text."""
    issues: list[dict[str, Any]] = []
    for error in errors:
        issue: dict[str, Any] = {
            "type": str(error.get("type", "value_error")),
            "loc": [part if isinstance(part, int) else str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "invalid"))[:500],
        }
        if "input" in error:
            issue["input"] = _echo(error["input"])
        if error.get("ctx"):
            issue["ctx"] = {str(key): str(value)[:200] for key, value in error["ctx"].items()}
        issues.append(issue)
    return issues


async def _validation_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": clean_issues(exc.errors())})


def _allowed_methods(request: Request) -> set[str]:
    """Methods the OpenAPI documents for this path (templates like ``{name}`` match one segment)."""
    app = request.app
    templates: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "allow_templates", None)
    if templates is None:
        templates = []
        for path, operations in app.openapi().get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")
            templates.append((pattern, {method.upper() for method in operations if method != "parameters"}))
        app.state.allow_templates = templates
    path = request.url.path
    return {method for pattern, methods in templates if pattern.match(path) for method in methods}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        allowed = _allowed_methods(request)
        if allowed:
            headers = {**(exc.headers or {}), "Allow": ", ".join(sorted(allowed))}
            exc = StarletteHTTPException(405, exc.detail, headers=headers)
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(StarletteHTTPException, _http_error)
