"""The whole configuration of one console session, as used by the CLI, the API and the docs."""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import StrictModel
from .dataset import DatasetConfig
from .hardware import RobotConfig, SimRobotConfig, SimTeleopConfig, TeleopConfig
from .inference import InferenceConfig, SyncInferenceConfig
from .inputs import AuthConfig, LeaseConfig, PedalConfig
from .policy import PolicyConfig, ScriptedPolicyConfig
from .strategy import BaseStrategyConfig, StrategyConfig

__all__ = ["LoopConfig", "RolloutConsoleConfig", "ServerConfig"]


class ServerConfig(StrictModel):
    """Where the web server listens."""

    host: str = Field("127.0.0.1", description="Address to bind; anything but loopback requires a token")
    port: int = Field(8000, ge=0, le=65535, description="TCP port (0 picks a free one)")
    log_level: str = Field("info", description="uvicorn log level (debug, info, warning, error)")
    auth: AuthConfig = Field(default_factory=AuthConfig)
    preview_jpeg_quality: int = Field(80, ge=10, le=100, description="JPEG quality of camera previews")
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        le=1024**3,
        description="Largest HTTP request body accepted; larger ones get 413 before they are read or parsed",
    )
    exit_when_stopped: bool = Field(
        False, description="Exit the process once the session has stopped (after a short linger); by default the "
        "server stays up, idle, and the page starts the next session"
    )
    data_dir: str | None = Field(
        None, description="Directory for datasets of sessions started from the page (their --dataset.root must be "
        "inside) and the session history (default: $HF_LEROBOT_HOME)"
    )
    policies_dir: str | None = Field(
        None, description="Directory of local checkpoints a session started from the page may load (default: none; "
        "built-ins and Hub ids only)"
    )


class LoopConfig(StrictModel):
    """Control-loop timing and safety limits."""

    stats_window_s: float = Field(10.0, gt=0, le=600, description="Sliding window of the timing statistics")
    gil_switch_interval_ms: float = Field(
        0.5,
        gt=0,
        le=50,
        description="Python thread switch interval; small values keep the control thread punctual",
    )
    realtime: bool = Field(
        False,
        description="Run the control thread under SCHED_FIFO (needs root or CAP_SYS_NICE; status loop.realtime "
        "says whether it took effect)",
    )
    realtime_priority: int = Field(50, ge=1, le=99, description="SCHED_FIFO priority with --loop.realtime=true")
    max_observation_age_ms: float = Field(
        500.0, gt=0, description="A camera frame older than this pauses the policy instead of acting on it"
    )
    command_timeout_s: float = Field(
        5.0, gt=0, description="A command not applied by the loop within this time is withdrawn (503)"
    )
    ack_timeout_s: float = Field(
        60.0, gt=0, description="How long a caller waits for an applied command's result (a save: until durable)"
    )


class RolloutConsoleConfig(StrictModel):
    """Everything a session needs; every field is also a ``--dotted.flag``."""

    robot: RobotConfig = Field(default_factory=SimRobotConfig)
    teleop: TeleopConfig | None = Field(
        None, description="Leader arm for corrections (default: the simulated leader with the sim robot)"
    )
    policy: PolicyConfig = Field(default_factory=ScriptedPolicyConfig)
    strategy: StrategyConfig = Field(default_factory=BaseStrategyConfig)
    inference: InferenceConfig = Field(default_factory=SyncInferenceConfig)
    dataset: DatasetConfig | None = Field(
        None, description="Where episodes are recorded (required by sentry, highlight and dagger; optional for "
        "episodic)"
    )
    resume: bool = Field(False, description="Append to an existing dataset (checked before the robot connects)")
    fps: float = Field(30.0, gt=0, le=1000, description="Policy and recording rate in Hz")
    interpolation_multiplier: int = Field(
        1, ge=1, le=20, description="Send commands at fps x N, interpolated; inference and recording stay at fps"
    )
    duration: float = Field(0.0, ge=0, description="Stop after this many seconds (0 = run until stopped)")
    task: str = Field("", description="Language instruction given to the policy and stored with episodes")
    return_to_initial_position: bool = Field(
        True, description="On stop, move the arm smoothly back to where it started"
    )
    return_duration_s: float = Field(3.0, gt=0, le=60, description="Duration of the return to the start pose")
    loop: LoopConfig = Field(default_factory=LoopConfig)
    pedal: PedalConfig = Field(default_factory=PedalConfig)
    lease: LeaseConfig = Field(default_factory=LeaseConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)

    @model_validator(mode="before")
    @classmethod
    def _remote_policies_default_to_rtc(cls, data: object) -> object:
        # A remote policy must never stall the control loop on the network: without an explicit
        # --inference.type it runs in the asynchronous engine (guidance decided by the server).
        if isinstance(data, dict) and isinstance(data.get("policy"), dict) and data["policy"].get("type") == "remote":
            inference = data.get("inference")
            if inference is None or (isinstance(inference, dict) and not inference.get("type")):
                data = {**data, "inference": {**(inference or {}), "type": "rtc"}}
        return data

    @model_validator(mode="after")
    def _defaults_that_depend_on_the_robot(self) -> RolloutConsoleConfig:
        if self.teleop is None and self.robot.type == "sim":
            object.__setattr__(self, "teleop", SimTeleopConfig())
        return self

    @model_validator(mode="after")
    def _recording_rules(self) -> RolloutConsoleConfig:
        kind, use = self.strategy.type, self.strategy.dataset_use
        if use == "required" and self.dataset is None:
            raise ValueError(f"--strategy.type={kind} records episodes: give --dataset.repo_id=owner/name")
        if use == "none" and self.dataset is not None:
            raise ValueError(f"--strategy.type={kind} records nothing: drop the --dataset.* options or use "
                             "--strategy.type=sentry, highlight, dagger or episodic")
        if self.resume and self.dataset is None:
            raise ValueError("--resume=true needs a dataset to append to (--dataset.repo_id, --dataset.root)")
        if self.dataset is not None and self.dataset.fps is not None and self.dataset.fps != self.fps:
            raise ValueError(f"--dataset.fps={self.dataset.fps:g} differs from --fps={self.fps:g}: recorded "
                             "timestamps would lie; the dataset records at the policy rate")
        if self.strategy.needs_leader and self.teleop is None:
            raise ValueError(f"--strategy.type={kind} needs a leader arm: give --teleop.type")
        return self

    @model_validator(mode="after")
    def _evaluation_rules(self) -> RolloutConsoleConfig:
        from .episodic import EpisodicStrategyConfig, policy_label

        strategy = self.strategy
        if not isinstance(strategy, EpisodicStrategyConfig) or not strategy.policies:
            return self
        if "policy" in self.model_fields_set:
            raise ValueError("--strategy.policies replaces --policy: give the policies to compare in "
                             "--strategy.policies only (drop the --policy.* options)")
        session_guided_rtc = self.inference.type == "rtc" and self.inference.rtc.guidance
        for index, entry in enumerate(strategy.policies):
            if entry.inference is None and session_guided_rtc and entry.policy.type == "scripted":
                raise ValueError(f"--strategy.policies[{index}] ({policy_label(entry.policy)}): guided rtc "
                                 "(--inference.type=rtc) needs a guided policy; the scripted expert is not one: give "
                                 "this entry its own inference: {type: sync}")
        return self

    @property
    def effective_task(self) -> str:
        """The task text: --task, else --dataset.single_task."""
        return self.task or (self.dataset.single_task if self.dataset else "")
