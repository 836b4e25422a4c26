"""Computes the server status (the running session's, or the idle server's) at most every ``max_age`` seconds,
however many clients ask."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..runtime.host import ConsoleHost
from .preview import PreviewHubs

__all__ = ["StatusCache"]


class StatusCache:
    def __init__(self, session: ConsoleHost, hubs: PreviewHubs | None = None,
                 extras: Mapping[str, Callable[[], Any]] | None = None, max_age_s: float = 0.05) -> None:
        self._session = session
        self._hubs = hubs
        self._extras = dict(extras or {})
        self._max_age = max_age_s
        self._value: dict[str, Any] | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self, fresh: bool = False) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            if fresh or self._value is None or now - self._at > self._max_age:
                value = self._session.status()
                if self._hubs is not None:
                    value["previews"] = self._hubs.stats()
                for key, produce in self._extras.items():
                    value[key] = produce()
                self._value = value
                self._at = now
            return self._value
