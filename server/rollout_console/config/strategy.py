"""Strategy configuration: what the session does with the robot and what it records."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import StrictModel

__all__ = ["BaseStrategyConfig", "StrategyConfig"]


class BaseStrategyConfig(StrictModel):
    """Policy only: the robot runs autonomously and nothing is recorded."""

    type: Literal["base"] = "base"


StrategyConfig = Annotated[BaseStrategyConfig, Field(description="Rollout strategy")]
