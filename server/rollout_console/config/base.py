"""Shared pydantic base for every configuration model."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["DatasetUse", "StrategyConfigBase", "StrictModel", "split_list"]

DatasetUse = Literal["required", "optional", "none"]


class StrictModel(BaseModel):
    """Unknown keys are errors (a typo in a flag must never be ignored); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class StrategyConfigBase(StrictModel):
    """What the configuration must know about a strategy before anything is built (class facts, not fields).

    The strategy classes (``strategies/``) carry the same facts for the runtime; a test keeps them equal.
    """

    dataset_use: ClassVar[DatasetUse] = "none"
    """``required``: records episodes, a dataset must be given; ``optional``: records when one is given."""
    needs_leader: ClassVar[bool] = False
    """The strategy drives the robot from a leader arm at times (``--teleop.type`` is required)."""
    episode_columns: ClassVar[dict[str, str]] = {}
    """Per-episode dataset columns the strategy fills besides ``outcome`` (name -> dtype)."""


def split_list(value: object) -> object:
    """Accept ``a,b,c`` on the command line for list options, as well as a JSON/YAML list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value
