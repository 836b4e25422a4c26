"""Wire schemas of the HTTP API (kept apart from runtime types; see docs/api.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..protocol.commands import EmptyBody  # the argument models live in the command table

__all__ = [
    "BODY_RESPONSES",
    "CameraInfo",
    "CameraStatus",
    "CommandAccepted",
    "EmptyBody",
    "EpisodePublic",
    "EpisodesPublic",
    "ErrorDetail",
    "EventPublic",
    "EventsPublic",
    "Health",
    "LoopStatus",
    "Percentiles",
    "PolicyStatus",
    "PreviewStatus",
    "StatusPublic",
    "ValidationIssue",
    "ValidationProblem",
]


class ErrorDetail(BaseModel):
    detail: str = Field(description="Why the request was refused")


class ValidationIssue(BaseModel):
    type: str = Field(description="Machine-readable kind, e.g. missing, json_invalid, literal_error")
    loc: list[str | int] = Field(description='Where: ["body", "outcome"], ["query", "since"], ...')
    msg: str = Field(description="What is wrong, in words")
    input: object | None = Field(None, description="The offending value; only echoed when small and finite")
    ctx: dict[str, str] | None = Field(None, description="Details of the rule that failed")


class ValidationProblem(BaseModel):
    """Every 422 has this shape (FastAPI's), whether FastAPI or the body guard refused the request."""

    detail: list[ValidationIssue]


BODY_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorDetail, "description": "A malformed X-Client-Id, or a body that is not UTF-8"},
    413: {"model": ErrorDetail, "description": "Body larger than --server.max_body_bytes (never read)"},
    422: {"model": ValidationProblem,
          "description": "Malformed body: not JSON, non-finite numbers, nested too deeply, or not the model"},
}
"""Responses every route with a JSON body can give before it runs."""


class Health(BaseModel):
    ok: bool
    phase: str
    version: str


class CommandAccepted(BaseModel):
    accepted: Literal[True] = True
    phase: str = Field(description="Phase after the command was applied")
    detail: str | None = Field(None, description="Set when the command changed nothing (already in effect)")
    outcome: str = Field("applied", description="What became of the command: applied, already or pending")


class Percentiles(BaseModel):
    p50: float | None = None
    p99: float | None = None
    max: float | None = None


class LoopStatus(BaseModel):
    measured_hz: float | None
    lateness_ms: Percentiles
    work_ms: Percentiles
    overruns: int
    skipped_deadlines: int
    ticks: int


class CameraStatus(BaseModel):
    fps: float
    age_ms: float | None
    width: int
    height: int
    errors: int


class LatencyPercentiles(BaseModel):
    p50: float | None = None
    p95: float | None = None


class PolicyStatus(BaseModel):
    name: str
    latency_ms: LatencyPercentiles


class JumpStats(BaseModel):
    last: float | None = None
    p99: float | None = None
    max: float | None = None


class PolicyConnectionStatus(BaseModel):
    """A remote policy's link to its server (``--policy.type=remote``)."""

    model_config = ConfigDict(extra="allow")

    state: Literal["connecting", "streaming", "degraded", "stalled", "reconnecting"] = Field(
        description="streaming: replies within the budget; degraded: slower; stalled: a request (or ping) "
        "unanswered past --policy.stall_after_ms; reconnecting: connection lost, retrying with back-off")
    server: str = Field(description="The server's URL (never carries the API key)")
    latency_ms: dict[str, float | None] = Field(description="Round trip p50 and p99")
    latency_budget_ms: float | None = None
    in_flight_ms: float | None = Field(None, description="Age of the request on the wire, if any")
    requests: int
    reconnects: int
    bytes_sent_last: int
    bytes_received_last: int
    last_error: str | None = None


class InferenceStatus(BaseModel):
    model_config = ConfigDict(extra="allow")

    engine: str
    latency_ms: LatencyPercentiles
    delay_ticks: int
    queue_depth: int
    starved_ticks: int
    boundary_jump: JumpStats
    connection: PolicyConnectionStatus | None = Field(None, description="Remote policies only")


class RobotStatus(BaseModel):
    name: str
    id: str
    joints: dict[str, float] = Field(description='Measured joint positions, "<joint>.pos": value')


class PreviewStatus(BaseModel):
    viewers: int
    encodes: int = Field(description="JPEG encodes since start (one per frame, shared by all viewers)")
    encodes_per_s: float


class StatusPublic(BaseModel):
    """Snapshot of the session; strategies add their own fields (recording, upload, ...)."""

    model_config = ConfigDict(extra="allow")

    server_id: str = Field(description="Changes when the server restarts (clients then resync from seq 0)")
    session_id: str | None = Field(description="The running session; null while idle")
    strategy: str | None = Field(description="The running session's strategy; null while idle")
    phase: Literal["starting", "autonomous", "paused", "correcting", "stopping", "stopped", "estopped", "error",
                   "resetting", "awaiting_outcome", "idle"] = Field(
        description="The session's phase; idle: no session runs (start one with POST /api/v1/sessions)")
    fps: float | None = Field(description="Policy and recording rate (null while idle)")
    control_hz: float | None = Field(description="Command rate: fps x --interpolation_multiplier (null while idle)")
    elapsed_s: float | None
    loop: LoopStatus | None = Field(description="Control-loop timing (null while idle: no loop runs)")
    robot: RobotStatus
    cameras: dict[str, CameraStatus]
    policy: PolicyStatus | None = Field(description="null while idle")
    inference: InferenceStatus | None = Field(description="null while idle")
    last_session: dict[str, object] | None = Field(
        None, description="While idle: the session that ran last (id, strategy, phase, end_cause, ended_at)")
    server_closing: bool = Field(False, description="While idle: the server is shutting down (no new session)")
    task: dict[str, object] | None = Field(None, description="Task progress (sim robot only)")
    notice: str | None = Field(None, description="Why the session paused on its own, if it did")
    notice_level: Literal["warning", "error"] | None = Field(
        None, description="How serious the notice is: error for a recording failure, warning otherwise"
    )
    error: str | None
    commands: list[str] = Field(description="Commands this strategy understands")
    available_commands: list[str] = Field(description="Commands that would be accepted right now")
    event_seq: int = Field(description="Sequence number of the newest event")
    previews: dict[str, PreviewStatus] = Field(default_factory=dict, description="Camera preview encoders")
    recording: RecordingStatus | None = Field(None, description="Recording strategies only")
    upload: UploadStatus | None = Field(None, description="Recording strategies only")
    teleop: dict[str, object] | None = Field(None, description="The leader arm and the handover, when present")
    lease: dict[str, object] | None = Field(None, description="Who holds control")
    inputs: dict[str, object] | None = Field(None, description="Server-side inputs (the foot pedal)")


class EpisodePublic(BaseModel):
    index: int
    length: int = Field(description="Frames (parquet rows = video frames per camera)")
    duration_s: float
    task: str
    saved_at: float | None = Field(description="Unix time it became durable (this session only)")
    uploaded: bool
    extra: dict[str, object] = Field(description="Per-episode labels, e.g. outcome")
    cut: bool = Field(False, description="Cut early because the encoders fell behind")


class EpisodesPublic(BaseModel):
    data: list[EpisodePublic]
    count: int


class RecordingStatus(BaseModel):
    model_config = ConfigDict(extra="allow")

    state: str = Field(description="idle, recording, saving or dropping")
    episode_index: int | None
    frames: int
    elapsed_s: float
    dropped_frames: int = Field(description="Frames not recorded because the encoders fell behind (never hidden)")
    backlog_s: float
    episodes: int
    last_error: str | None
    pending_saves: int = Field(0, description="Saves submitted and not yet durable (stopped waits for 0)")
    disk: DiskStatus | None = Field(None, description="Free space on the dataset's disk, sampled off the loop")


class DiskStatus(BaseModel):
    free_bytes: int | None = Field(description="Free bytes on the dataset's file system (None if unreadable)")
    min_free_bytes: int = Field(description="--dataset.min_free_gb in bytes: below it, a disk_low warning")
    low: bool
    dataset_bytes: int = Field(description="Size of the dataset on disk (sampled every few seconds)")


class UploadStatus(BaseModel):
    model_config = ConfigDict(extra="allow")

    state: str
    progress: dict[str, int] | None = None
    last_error: str | None = None


class CameraInfo(BaseModel):
    name: str
    width: int
    height: int
    fps: float
    stream: str = Field(description="WebSocket path of the JPEG preview stream")


class EventPublic(BaseModel):
    type: Literal["event"] = "event"
    seq: int
    time: float
    kind: str
    data: dict[str, object]


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int
    last_seq: int
