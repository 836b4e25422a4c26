"""The session snapshot of ``GET /api/v1/status`` and of every WebSocket ``state`` message."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .phases import Phase
from .preview_status import PreviewClientStatus, PreviewSizeStatus
from .wire_model import WireModel

__all__ = [
    "CameraInfo",
    "CameraStatus",
    "CpuBudgetStatus",
    "DiskStatus",
    "EncoderBudgetStatus",
    "InferenceStatus",
    "JumpStats",
    "LatencyPercentiles",
    "LoopStatus",
    "Percentiles",
    "PolicyConnectionStatus",
    "PolicyStatus",
    "PreviewStatus",
    "RealtimeStatus",
    "RecordingStatus",
    "RobotStatus",
    "StatusPublic",
    "UploadStatus",
]


class Percentiles(WireModel):
    p50: float | None = None
    p99: float | None = None
    max: float | None = None


class RealtimeStatus(WireModel):
    requested: bool
    active: bool = Field(description="The control thread runs under SCHED_FIFO")
    policy: str = Field(description="SCHED_FIFO or SCHED_OTHER")
    priority: int
    detail: str | None = Field(None, description="Why it did not take effect, and what to change")


class LoopStatus(WireModel):
    measured_hz: float | None
    lateness_ms: Percentiles
    work_ms: Percentiles
    cpu_ms: Percentiles | None = Field(
        None, description="The control thread's own CPU time per tick (work_ms minus waiting for a core, the GIL or I/O)")
    overruns: int
    skipped_deadlines: int
    ticks: int
    target_hz: float | None = Field(None, description="The rate the loop should hold (fps x interpolation)")
    time_compression: float | None = Field(
        None, description="target / measured rate: how much faster than real time recorded episodes replay"
    )
    advice: str | None = Field(None, description="Set while the loop runs below 95 % of its target: why, what to do")
    realtime: RealtimeStatus | None = Field(None, description="What --loop.realtime achieved")


class CameraStatus(WireModel):
    fps: float
    age_ms: float | None
    width: int
    height: int
    errors: int


class LatencyPercentiles(WireModel):
    p50: float | None = None
    p95: float | None = None


class PolicyStatus(WireModel):
    name: str
    latency_ms: LatencyPercentiles


class JumpStats(WireModel):
    last: float | None = None
    p99: float | None = None
    max: float | None = None


class PolicyConnectionStatus(WireModel):
    """A remote policy's link to its server (``--policy.type=remote``)."""

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


class InferenceStatus(WireModel):
    engine: str
    latency_ms: LatencyPercentiles
    delay_ticks: int
    queue_depth: int
    starved_ticks: int
    boundary_jump: JumpStats
    queue_threshold: int | None = Field(
        None, description="rtc: the queue depth at which the next inference starts (the value in force now)"
    )
    queue_threshold_mode: str | None = Field(
        None, description='rtc: "latency" (follows the delay estimate) or "fixed" (--inference.queue_threshold)'
    )
    keeps_up: bool | None = Field(
        None, description="rtc: false when the delay exceeds half a chunk (the queue cannot stay filled)"
    )
    connection: PolicyConnectionStatus | None = Field(None, description="Remote policies only")
    chunk_size: int | None = Field(None, description="Actions per chunk the policy returns (the page's health "
                                   "thresholds derive from it)")
    n_action_steps: int | None = Field(None, description="sync: actions executed from each chunk")
    step_change_p50: float | None = Field(None, description="Median per-tick joint change inside a chunk, the "
                                          "yardstick for boundary_jump (joint units)")


class RobotStatus(WireModel):
    name: str
    id: str
    joints: dict[str, float] = Field(description='Measured joint positions, "<joint>.pos": value')


class PreviewStatus(WireModel):
    viewers: int
    encodes: int = Field(description="JPEG encodes since start (one per frame, shared by all viewers)")
    encodes_per_s: float
    bytes_per_s: float = Field(0.0, description="Bytes per second sent to all viewers of this camera (last 5 s)")
    bytes_sent: int = Field(0, description="Bytes sent to viewers since start")
    frames_sent: int = Field(0, description="Frames sent to viewers since start (summed over viewers)")
    frames_skipped: int = Field(0, description="Frames a viewer's link had no room for (newer ones replaced them)")
    sizes: list[PreviewSizeStatus] = Field(default_factory=list, description="Encodes per preview size")
    clients: list[PreviewClientStatus] = Field(default_factory=list, description="One entry per viewer now")


class DiskStatus(WireModel):
    free_bytes: int | None = Field(description="Free bytes on the dataset's file system (None if unreadable)")
    min_free_bytes: int = Field(description="--dataset.min_free_gb in bytes: below it, a disk_low warning")
    low: bool
    dataset_bytes: int = Field(description="Size of the dataset on disk (sampled every few seconds)")


class RecordingStatus(WireModel):
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


class UploadStatus(WireModel):
    state: str
    progress: dict[str, int] | None = None
    last_error: str | None = None


class EncoderBudgetStatus(WireModel):
    vcodec: str
    preset: str = Field(description="Speed preset the camera encoders open with now")
    preset_source: Literal["flag", "default", "auto"] = Field(
        description="flag: --dataset.preset; default: the codec's default fits; auto: the budget chose a faster one")
    threads: int | None = Field(description="Threads per camera encoder (null: the codec decides)")
    threads_source: Literal["flag", "auto"]
    nice: int = Field(description="Nice value of the encoder threads")
    cameras: int
    cpu_ms_per_frame: dict[str, float] = Field(
        description="Measured CPU ms per frame of each preset tried (synthetic frames, the largest camera's size)")
    cores_needed: float | None = Field(description="All cameras' encoders at the preset in force (null: measuring)")
    probe_error: str | None = Field(None, description="Why the encoder cost could not be measured")


class CpuBudgetStatus(WireModel):
    cores: int = Field(description="CPUs this process may run on (its affinity)")
    torch_threads: int | None = Field(description="torch's intra-op threads (null: the policy does not run torch here)")
    torch_threads_source: Literal["flag", "auto", "none"]
    encoders: EncoderBudgetStatus | None = Field(description="null when no video is recorded")
    loop_cores: float = Field(description="What the loop, capture, previews and the server are assumed to take")
    fits: bool | None = Field(description="false: the machine cannot keep up (see advice); null: still measuring")
    advice: str | None = Field(description="What was measured and what to change, when it does not fit")
    adaptations: list[str] = Field(
        description="Changes made while running (a faster encoder preset, another torch thread), newest last")


class StatusPublic(WireModel):
    """Snapshot of the session; strategies add their own fields (recording, upload, ...)."""

    server_id: str | None = Field(None, description="New on every server start (clients then resync from seq 0)")
    session_id: str | None = Field(description="The running session; null while idle")
    strategy: str | None = Field(description="The running session's strategy; null while idle")
    phase: Phase | str = Field(
        description="The session's phase; idle: no session runs (start one with POST /api/v1/sessions). "
        "A client also accepts a phase it does not know (a newer server)")
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
    task_instruction: str | None = Field(
        None, description="What the robot is asked to do: --task (else --dataset.single_task), the text the policy "
        "gets and every recorded episode stores; null when none was given or while idle")
    notice: str | None = Field(None, description="Why the session paused on its own, if it did")
    notice_level: Literal["warning", "error"] | None = Field(
        None, description="How serious the notice is: error for a recording failure, warning otherwise"
    )
    error: str | None
    commands: list[str] = Field(description="Commands this strategy understands")
    available_commands: list[str] = Field(description="Commands that would be accepted right now")
    event_seq: int = Field(description="Sequence number of the newest event")
    cpu_budget: CpuBudgetStatus | None = Field(
        None, description="Who gets the CPU cores (torch, the video encoders) and whether it fits; null while idle")
    previews: dict[str, PreviewStatus] = Field(default_factory=dict, description="Camera preview encoders")
    recording: RecordingStatus | None = Field(None, description="Recording strategies only")
    upload: UploadStatus | None = Field(None, description="Recording strategies only")
    teleop: dict[str, object] | None = Field(None, description="The leader arm and the handover, when present")
    lease: dict[str, object] | None = Field(None, description="Who holds control")
    inputs: dict[str, object] | None = Field(None, description="Server-side inputs (the foot pedal)")


class CameraInfo(WireModel):
    name: str
    width: int
    height: int
    fps: float
    stream: str = Field(description="WebSocket path of the JPEG preview stream")
