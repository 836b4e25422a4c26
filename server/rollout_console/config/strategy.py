"""Strategy configuration: what the session does with the robot and what it records."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .base import StrategyConfigBase
from .episodic import EpisodicStrategyConfig

__all__ = [
    "BaseStrategyConfig",
    "DaggerStrategyConfig",
    "EpisodicStrategyConfig",
    "HighlightStrategyConfig",
    "SentryStrategyConfig",
    "StrategyConfig",
]


class BaseStrategyConfig(StrategyConfigBase):
    """Policy only: the robot runs autonomously and nothing is recorded."""

    type: Literal["base"] = "base"


class _Rotation(StrategyConfigBase):
    upload_every_n_episodes: int = Field(
        5, ge=0, description="Upload to the Hub after this many saved episodes (0 = only on upload and at stop)"
    )
    target_video_file_size_mb: float = Field(
        200.0, gt=0, description="Rotate the episode when its estimated video size reaches this (per camera)"
    )
    episode_time_s: float | None = Field(
        None, gt=0, description="Rotate the episode after this many seconds instead of by size"
    )


class SentryStrategyConfig(_Rotation):
    """Record everything the policy does; rotate episodes by size or time; upload in the background."""

    dataset_use = "required"

    type: Literal["sentry"] = "sentry"


class HighlightStrategyConfig(StrategyConfigBase):
    """Keep the last seconds in a ring buffer; `mark` keeps them as the start of an episode, `save` ends it."""

    dataset_use = "required"

    type: Literal["highlight"] = "highlight"
    ring_buffer_seconds: float = Field(10.0, gt=0, le=3600, description="History kept before a mark, in seconds")
    ring_buffer_max_memory_mb: float = Field(
        1024.0, gt=0, description="Memory bound of the ring buffer (exact accounting); the oldest frames go first"
    )
    compress_ring: bool = Field(
        False, description="Keep ring frames JPEG-compressed (at least 5x more seconds in the same memory)"
    )
    ring_jpeg_quality: int = Field(90, ge=10, le=100, description="JPEG quality of compressed ring frames")
    upload_every_n_episodes: int = Field(
        5, ge=0, description="Upload to the Hub after this many saved episodes (0 = only on upload and at stop)"
    )


class DaggerStrategyConfig(_Rotation):
    """Human in the loop: pause, take over with the leader arm, correct, hand back."""

    dataset_use = "required"
    needs_leader = True

    type: Literal["dagger"] = "dagger"
    record: Literal["corrections", "continuous", "attempt"] = Field(
        "corrections",
        description="corrections: one episode per correction; continuous: everything but pauses, rotated "
        "by size (not while correcting); attempt: one episode per attempt, ended by save",
    )
    record_autonomous: bool | None = Field(
        None, description="LeRobot's switch: true means --strategy.record=continuous"
    )
    num_episodes: int = Field(50, ge=1, description="Stop the session after this many saved episodes")

    @model_validator(mode="after")
    def _lerobot_alias(self) -> DaggerStrategyConfig:
        if self.record_autonomous is True and self.record == "attempt":
            raise ValueError("--strategy.record_autonomous=true contradicts --strategy.record=attempt")
        if self.record_autonomous is True:
            object.__setattr__(self, "record", "continuous")
        elif self.record_autonomous is False and self.record == "continuous":
            raise ValueError("--strategy.record_autonomous=false contradicts --strategy.record=continuous")
        return self


StrategyConfig = Annotated[
    BaseStrategyConfig | SentryStrategyConfig | HighlightStrategyConfig | DaggerStrategyConfig
    | EpisodicStrategyConfig,
    Field(discriminator="type", description="Rollout strategy"),
]
