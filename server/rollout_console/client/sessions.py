"""Session records (``/api/v1/sessions``): the models come from ``rollout_console.protocol.sessions``."""

from __future__ import annotations

from typing import Any

from ..protocol.sessions import SessionList, SessionRecord

__all__ = ["SessionRecord", "session_list"]


def session_list(raw: Any) -> list[SessionRecord]:
    return SessionList.model_validate(raw).data
