"""The flow policy's architecture and data description, stored as ``config.json`` next to the weights."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

__all__ = ["CONFIG_FILE", "FORMAT_VERSION", "WEIGHTS_FILE", "FlowConfig"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT_VERSION = 1


@dataclass
class FlowConfig:
    """Everything needed to rebuild the network and map robot data in and out of model space."""

    state_names: list[str]
    env_names: list[str]
    action_names: list[str]
    chunk_size: int = 50
    num_inference_steps: int = 10
    prediction: str = "sample"  # the network predicts the clean chunk ("sample") or the velocity
    hidden_dim: int = 256
    block_dim: int = 384
    num_blocks: int = 3
    cond_dim: int = 128
    time_embed_dim: int = 64
    image_key: str | None = None  # e.g. "observation.images.top"; None = no image input
    image_size: tuple[int, int] = (48, 64)  # (height, width) the camera frame is resized to
    image_channels: tuple[int, ...] = (16, 32, 32)
    image_feature_dim: int = 64
    fps: float = 30.0
    training: dict[str, Any] = field(default_factory=dict)  # provenance: dataset, steps, final loss
    format_version: int = FORMAT_VERSION

    @property
    def state_dim(self) -> int:
        return len(self.state_names)

    @property
    def env_dim(self) -> int:
        return len(self.env_names)

    @property
    def action_dim(self) -> int:
        return len(self.action_names)

    def to_json(self) -> str:
        data = asdict(self)
        data["type"] = "flow"
        return json.dumps(data, indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowConfig:
        data = dict(data)
        data.pop("type", None)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown flow config keys {unknown}")
        if data.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
            raise ValueError(f"checkpoint format {data['format_version']} is newer than this console "
                             f"understands ({FORMAT_VERSION})")
        for key in ("image_size", "image_channels"):
            if key in data and data[key] is not None:
                data[key] = tuple(data[key])
        return cls(**data)

    @classmethod
    def load(cls, directory: Path) -> FlowConfig:
        return cls.from_dict(json.loads((directory / CONFIG_FILE).read_text()))
