"""Wire schemas of the HTTP API. The models a client also reads live in the leaf package
``rollout_console.protocol`` (shared with ``rollout_console.client``); this module re-exports them beside
the API-only pieces (request bodies, the responses every body route can give)."""

from __future__ import annotations

from ..protocol.commands import EmptyBody  # the argument models live in the command table
from ..protocol.episodes import EpisodePublic, EpisodesPublic
from ..protocol.messages import EventPublic, EventsPublic
from ..protocol.replies import CommandAccepted, ErrorDetail, Health, ValidationIssue, ValidationProblem
from ..protocol.status import (
    CameraInfo,
    CameraStatus,
    DiskStatus,
    InferenceStatus,
    JumpStats,
    LatencyPercentiles,
    LoopStatus,
    Percentiles,
    PolicyConnectionStatus,
    PolicyStatus,
    PreviewStatus,
    RecordingStatus,
    RobotStatus,
    StatusPublic,
    UploadStatus,
)

__all__ = [
    "BODY_RESPONSES",
    "CameraInfo",
    "CameraStatus",
    "CommandAccepted",
    "DiskStatus",
    "EmptyBody",
    "EpisodePublic",
    "EpisodesPublic",
    "ErrorDetail",
    "EventPublic",
    "EventsPublic",
    "Health",
    "InferenceStatus",
    "JumpStats",
    "LatencyPercentiles",
    "LoopStatus",
    "Percentiles",
    "PolicyConnectionStatus",
    "PolicyStatus",
    "PreviewStatus",
    "RecordingStatus",
    "RobotStatus",
    "StatusPublic",
    "UploadStatus",
    "ValidationIssue",
    "ValidationProblem",
]


BODY_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorDetail, "description": "A malformed X-Client-Id, or a body that is not UTF-8"},
    413: {"model": ErrorDetail, "description": "Body larger than --server.max_body_bytes (never read)"},
    422: {"model": ValidationProblem,
          "description": "Malformed body: not JSON, non-finite numbers, nested too deeply, or not the model"},
}
"""Responses every route with a JSON body can give before it runs."""
