"""Bookkeeping of a held operator lease, shared by the sync and async ``control()`` blocks (no I/O)."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["LeaseKeeper", "heartbeat_period"]

log = logging.getLogger("rollout_console.client")


def heartbeat_period(lease: dict[str, Any]) -> float:
    """How often to heartbeat: the server's ``--lease.heartbeat_s`` (what its page uses), 0.5 s if absent."""
    value = lease.get("heartbeat_s")
    return float(value) if isinstance(value, int | float) and value > 0 else 0.5


class LeaseKeeper:
    """Remembers who we are as holder and why control was lost, if it was."""

    def __init__(self) -> None:
        self.holder: dict[str, Any] | None = None
        self.lost: str | None = None
        self.missed_beats = 0

    def acquired(self, answer: dict[str, Any]) -> None:
        self.holder = answer.get("holder")

    def missed(self, error: str) -> None:
        self.missed_beats += 1
        log.warning("lease heartbeat failed (%s); retrying", error)

    def answered(self, status: int, body: Any) -> bool:
        """Record a heartbeat's answer; False once control is lost (stop heartbeating)."""
        if status == 200:
            self.missed_beats = 0
            return True
        reason = body.get("reason") or body.get("detail") if isinstance(body, dict) else None
        self.lost = str(reason or f"heartbeat answered HTTP {status}")
        log.warning("lost control of the console: %s", self.lost)
        return False
