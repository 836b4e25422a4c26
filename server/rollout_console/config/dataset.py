"""Dataset recording configuration (``--dataset.*`` flags) and where a dataset lives on disk.

A new dataset gets a time stamp appended to its repo name (``owner/name_YYYYMMDD_HHMMSS``) so two runs
never collide; ``--dataset.stamp_repo_id=false`` keeps the name exactly as given, and a resumed dataset
is never stamped (the name given is the one on disk). Compute the repo id once with
``effective_repo_id`` and pass it to ``resolve_root``: the stamp depends on the clock.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import StrictModel, split_list

__all__ = [
    "SVT_PRESETS",
    "X264_PRESETS",
    "DatasetConfig",
    "default_preset",
    "effective_repo_id",
    "lerobot_home",
    "resolve_root",
    "stamped_repo_id",
]

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_STAMP_FORMAT = "%Y%m%d_%H%M%S"
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
SVT_PRESETS = tuple(str(n) for n in range(14))
_CRF_MAX = {"libsvtav1": 63, "h264": 51}


class DatasetConfig(StrictModel):
    """Where and how episodes are recorded (LeRobotDataset v3) and pushed to the Hugging Face Hub."""

    repo_id: str = Field(
        ..., description="Dataset name as owner/name; also the Hub repository when pushing"
    )
    root: str | None = Field(
        None, description="Local directory of the dataset (default: $HF_LEROBOT_HOME/<repo_id>)"
    )
    single_task: str = Field("", description="Task text stored with every episode (default: the session task)")
    fps: float | None = Field(
        None, gt=0, le=1000, description="Recording rate in Hz; must equal the session fps (default: the same)"
    )
    video: bool = Field(True, description="Store cameras as MP4 videos (false: PNG images inside the parquet)")
    vcodec: Literal["libsvtav1", "h264"] = Field("libsvtav1", description="Video codec: libsvtav1 (AV1) or h264")
    crf: int = Field(30, ge=0, description="Constant rate factor (lower is better quality and bigger files)")
    preset: str | None = Field(
        None,
        description="Encoder speed preset: 0-13 for libsvtav1 (default 12), ultrafast..veryslow for h264 "
        "(default veryfast)",
    )
    gop: int = Field(
        2, ge=1, le=600, description="Keyframe interval in frames; small values make random access cheap"
    )
    encoder_threads: int | None = Field(
        None, ge=1, le=64, description="Threads per camera encoder (default: 1 for libsvtav1 up to 1280x720, "
        "which opens 2-5x faster and still encodes 2-5x real time; otherwise the codec decides)"
    )
    encoder_nice: int = Field(
        10, ge=0, le=19, description="Nice value of the encoder threads, so the control loop wins the CPU"
    )
    push_to_hub: bool = Field(True, description="Upload saved episodes to the Hugging Face Hub")
    private: bool = Field(False, description="Create the Hub repository as private")
    tags: list[str] = Field(default_factory=list, description="Hub tags for the dataset, comma separated")
    stamp_repo_id: bool = Field(
        True, description="Append _YYYYMMDD_HHMMSS to the repo name of a new dataset (never on resume)"
    )
    max_encoder_backlog_s: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Seconds of video the encoders may lag behind before the episode is cut and saved "
        "(frames are dropped, counted and reported until they catch up)",
    )

    on_error: Literal["pause", "continue"] = Field(
        "pause",
        description="When an episode cannot be saved or started (disk full, permissions, encoder error): pause "
        "the policy and say why (pause), or keep the robot going and only say why (continue)",
    )
    min_free_gb: float = Field(
        1.0, ge=0, le=100_000, description="Warn when the dataset's disk has less free space than this (GB)"
    )
    min_episode_s: float = Field(
        1.0,
        ge=0,
        le=3600,
        description="An episode that an automatic pause (stale camera, lease lapse, recording error) would end "
        "shorter than this is discarded, with a reason; episodes the operator saves and backlog cuts are kept",
    )

    _split_tags = field_validator("tags", mode="before")(split_list)

    @field_validator("repo_id")
    @classmethod
    def _check_repo_id(cls, value: str) -> str:
        value = value.strip()
        if not _REPO_ID.match(value) or ".." in value or len(value) > 96:
            raise ValueError(f"{value!r} is not a valid repo id; use owner/name (letters, digits, '-', '_', '.')")
        return value

    @field_validator("preset", mode="before")
    @classmethod
    def _preset_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("root")
    @classmethod
    def _check_root(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty (leave it out for the default location)")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> DatasetConfig:
        limit = _CRF_MAX[self.vcodec]
        if self.crf > limit:
            raise ValueError(f"--dataset.crf={self.crf} is out of range for --dataset.vcodec={self.vcodec} "
                             f"(0..{limit})")
        if self.preset is not None:
            allowed = SVT_PRESETS if self.vcodec == "libsvtav1" else X264_PRESETS
            if self.preset not in allowed:
                raise ValueError(f"--dataset.preset={self.preset} is not a preset of --dataset.vcodec="
                                 f"{self.vcodec} (one of {', '.join(allowed)})")
        if not self.video and (self.preset is not None or self.encoder_threads is not None):
            raise ValueError("--dataset.preset and --dataset.encoder_threads need --dataset.video=true")
        return self


def default_preset(vcodec: str) -> str:
    """The speed preset used when ``--dataset.preset`` is not given."""
    return "12" if vcodec == "libsvtav1" else "veryfast"


def lerobot_home() -> Path:
    """``$HF_LEROBOT_HOME``, defaulting to ``~/.cache/huggingface/lerobot`` as LeRobot does."""
    value = os.environ.get("HF_LEROBOT_HOME")
    return Path(value).expanduser() if value else Path("~/.cache/huggingface/lerobot").expanduser()


def stamped_repo_id(repo_id: str, when: datetime | None = None) -> str:
    """``owner/name`` -> ``owner/name_YYYYMMDD_HHMMSS`` (local time of ``when``, default now)."""
    stamp = (when or datetime.now()).strftime(_STAMP_FORMAT)
    return f"{repo_id}_{stamp}"


def effective_repo_id(config: DatasetConfig, resume: bool, when: datetime | None = None) -> str:
    """The repo id this session records to: stamped for a new dataset unless the stamp is disabled."""
    if resume or not config.stamp_repo_id:
        return config.repo_id
    return stamped_repo_id(config.repo_id, when)


def resolve_root(config: DatasetConfig, resume: bool, repo_id: str | None = None) -> Path:
    """The dataset directory: ``--dataset.root`` when given, else ``$HF_LEROBOT_HOME/<repo_id>``.

    ``repo_id`` is the effective (possibly stamped) id; when omitted it is computed now, so pass the
    value you also use for the Hub to keep the two in step.
    """
    if config.root is not None:
        return Path(config.root).expanduser()
    return lerobot_home() / (repo_id or effective_repo_id(config, resume))
