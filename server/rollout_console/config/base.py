"""Shared pydantic base for every configuration model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictModel", "split_list"]


class StrictModel(BaseModel):
    """Unknown keys are errors (a typo in a flag must never be ignored); models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def split_list(value: object) -> object:
    """Accept ``a,b,c`` on the command line for list options, as well as a JSON/YAML list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value
