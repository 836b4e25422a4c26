"""Wire models of sessions as a resource: one record per session, and the list (``/api/v1/sessions``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["END_CAUSES", "SessionDataset", "SessionList", "SessionRecord"]

END_CAUSES = ("stopped", "estop", "error", "duration", "shutdown", "start_failed")
"""Why a session ended: a stop command, a stop while estopped, an error, its --duration, the server shutting
down (SIGINT/SIGTERM, or a server that ended while it ran), or hardware that failed as it started."""


class SessionDataset(BaseModel):
    repo_id: str = Field(description="The dataset's repo id (stamped when the session created it)")
    root: str = Field(description="Its directory on the server")


class SessionRecord(BaseModel):
    """One session, running or past; kept across server restarts in ``<data_dir>/.rollout-console/sessions.json``."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(description="The session's id (status.session_id while it runs)")
    strategy: str
    config: dict[str, Any] = Field(description="The session part of its configuration (what POST accepts)")
    started_at: float = Field(description="Unix time it started")
    ended_at: float | None = Field(None, description="Unix time it ended; null while it runs")
    end_cause: str | None = Field(None, description="null while it runs; stopped, estop, error, duration, shutdown "
                                                    "or start_failed")
    episodes_saved: int = Field(0, description="Episodes this session saved durably")
    dataset: SessionDataset | None = Field(None, description="Where it recorded; null when it recorded nothing")
    current: bool = Field(False, description="True for the session running now")
    server_id: str | None = Field(None, description="The server process that ran it")


class SessionList(BaseModel):
    data: list[SessionRecord] = Field(description="Oldest first, the current one included")
    count: int
