"""Inference engine configuration."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import StrictModel

__all__ = ["InferenceConfig", "SyncInferenceConfig"]


class SyncInferenceConfig(StrictModel):
    """Inference on the control thread: the loop stalls while a new chunk is computed."""

    type: Literal["sync"] = "sync"
    n_action_steps: int | None = Field(
        None, ge=1, description="Actions executed from each chunk before the next inference (default: all)"
    )
    simulated_latency_ms: float = Field(
        0.0, ge=0, le=60_000, description="Artificial delay added to every inference (emulates slow models)"
    )


InferenceConfig = Annotated[SyncInferenceConfig, Field(description="Inference engine")]
