"""Policy configuration."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import StrictModel

__all__ = ["PolicyConfig", "ScriptedPolicyConfig"]


class ScriptedPolicyConfig(StrictModel):
    """The scripted expert that solves the sim task from the task state and returns action chunks."""

    type: Literal["scripted"] = "scripted"
    chunk_size: int = Field(50, ge=1, le=1000, description="Actions per predicted chunk")
    max_joint_speed_deg_s: float = Field(60.0, gt=0, description="Speed the expert plans its motions at")


PolicyConfig = Annotated[ScriptedPolicyConfig, Field(description="Policy that drives the robot")]
