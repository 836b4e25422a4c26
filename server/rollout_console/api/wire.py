"""Strict JSON for everything that arrives over the wire (REST bodies and WebSocket messages).

Python's ``json`` accepts ``NaN`` and ``Infinity`` and recurses once per nesting level, so a hostile
``"[" * 100000`` raises ``RecursionError`` and a non-finite number travels on into validation (and
into error replies that cannot be serialised). ``parse_json`` refuses both with a ``WireError`` that
names the rule, before any model sees the value. Pure: no web imports, shared by REST and WebSocket.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_JSON_DEPTH", "WS_MAX_MESSAGE_BYTES", "WireError", "json_depth", "parse_json"]

MAX_JSON_DEPTH = 32
"""Deepest nesting of objects and arrays accepted in a body or message (real messages use 3)."""

WS_MAX_MESSAGE_BYTES = 64 * 1024
"""Largest control-WebSocket message parsed (real messages are under 1 KiB)."""


@dataclass(frozen=True)
class WireError(ValueError):
    """Why a body or message was refused; ``kind`` is a validation-error type, ``status`` its HTTP status."""

    kind: str
    message: str
    status: int = 422

    def __str__(self) -> str:
        return self.message


def _refuse_constant(name: str) -> Any:
    raise WireError("json_invalid", f"{name} is not a JSON number: send finite numbers only")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):  # 1e999 parses to inf
        raise WireError("json_invalid", f"{literal[:40]} is out of range: send finite numbers only")
    return number


def parse_json(data: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Decode strict JSON: UTF-8 only, finite numbers only, at most ``max_depth`` levels of nesting."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireError("utf8_invalid", f"the body is not valid UTF-8 (byte {exc.start})", 400) from None
    else:
        text = data
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except WireError:
        raise
    except RecursionError:
        raise WireError("json_too_deep", f"JSON nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as exc:
        raise WireError("json_invalid", f"not valid JSON: {exc.msg} at position {exc.pos}") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python's int-string limit
        raise WireError("json_invalid", f"not valid JSON: {exc}") from None
    if json_depth(value, max_depth) > max_depth:
        raise WireError("json_too_deep", f"JSON nested more than {max_depth} levels deep")
    return value


def json_depth(value: Any, stop_at: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a decoded JSON value (a scalar is 0); stops counting past ``stop_at``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > stop_at:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest
