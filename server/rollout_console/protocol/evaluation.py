"""Results of an episodic evaluation as ``GET /api/v1/evaluation`` reports them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .wire_model import WireModel

__all__ = ["Comparison", "EvaluationPublic", "PolicyResult"]


class PolicyResult(WireModel):
    name: str
    episodes: int = Field(description="Episodes counted: outcome success or failure, not excluded")
    successes: int
    failures: int
    unknown: int = Field(description="Episodes with outcome unknown (not counted in the rate)")
    excluded: int = Field(description="Episodes left out of the statistics by the operator, with a reason")
    success_rate: float | None
    ci95: list[float] | None = Field(description="Wilson 95 % interval of the success rate: [low, high]")
    time_to_success_mean_s: float | None
    time_to_success_median_s: float | None
    interventions_per_episode: float | None


class Comparison(WireModel):
    baseline: str | None = Field(description="The first policy; every other one is compared with it")
    pairs: list[dict[str, Any]] = Field(description="difference, ci95, p_value, verdict, more_episodes_each, summary")
    summary: str | None = Field(description="The comparison in words")


class EvaluationPublic(WireModel):
    planned_episodes: int
    finished_episodes: int
    blind: bool
    policies: list[PolicyResult]
    comparison: Comparison
    episodes: list[dict[str, Any]] = Field(description="One row per episode; in blind mode an episode without an "
                                                       "outcome shows policy 'hidden'")
