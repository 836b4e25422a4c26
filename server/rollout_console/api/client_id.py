"""The ``X-Client-Id`` header: checked against the lease's id rule (400 naming it), declared in the OpenAPI.

FastAPI's own header validation would answer 422 with a regular expression; a client deserves the rule
in words, and a missing id on a lease route has always been a 400. So the header is read raw (hidden
from the generated schema), checked here, and declared by hand with the same pattern and length.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, HTTPException

from .lease import CLIENT_ID_MAX_LENGTH, CLIENT_ID_PATTERN, CLIENT_ID_RULE, client_id_problem

__all__ = ["ClientIdHeader", "checked_client_id", "client_id_openapi"]

ClientIdHeader = Annotated[str | None, Header(alias="X-Client-Id", include_in_schema=False)]
"""Annotate a route parameter with this, then pass it through ``checked_client_id``."""


def checked_client_id(value: str | None, *, required: bool) -> str | None:
    """The id when it follows the rule (or is absent and optional); otherwise HTTP 400 with the rule."""
    if value is None and not required:
        return None
    if value is None:
        raise HTTPException(400, f"send an X-Client-Id header to identify this client ({CLIENT_ID_RULE})")
    problem = client_id_problem(value)
    if problem is not None:
        raise HTTPException(400, f"X-Client-Id: {problem}")
    return value


def client_id_openapi(*, required: bool, description: str) -> dict[str, Any]:
    """``openapi_extra`` declaring the header (and its 400) on one route."""
    return {
        "parameters": [
            {
                "name": "X-Client-Id",
                "in": "header",
                "required": required,
                "description": f"{description}. Rule: {CLIENT_ID_RULE}.",
                "schema": {"type": "string", "minLength": 1, "maxLength": CLIENT_ID_MAX_LENGTH, "pattern": CLIENT_ID_PATTERN},
            }
        ]
    }
