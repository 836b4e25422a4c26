"""GET /api/v1/evaluation: success rates with intervals, the comparison in words, every episode."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from ..deps import SessionDep

router = APIRouter(prefix="/api/v1", tags=["evaluation"])


class PolicyResult(BaseModel):
    model_config = ConfigDict(extra="allow")

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


class Comparison(BaseModel):
    model_config = ConfigDict(extra="allow")

    baseline: str | None = Field(description="The first policy; every other one is compared with it")
    pairs: list[dict[str, Any]] = Field(description="difference, ci95, p_value, verdict, more_episodes_each, summary")
    summary: str | None = Field(description="The comparison in words")


class EvaluationPublic(BaseModel):
    model_config = ConfigDict(extra="allow")

    planned_episodes: int
    finished_episodes: int
    blind: bool
    policies: list[PolicyResult]
    comparison: Comparison
    episodes: list[dict[str, Any]] = Field(description="One row per episode; in blind mode an episode without an "
                                                       "outcome shows policy 'hidden'")


@router.get("/evaluation", response_model=EvaluationPublic, operation_id="evaluation",
            responses={404: {"description": "This strategy evaluates nothing"}})
def evaluation(session: SessionDep) -> dict[str, Any]:
    """Per policy: episodes, successes, success rate with its Wilson 95 % interval, times to success;
    the comparison (difference with its interval, Fisher's exact test, episodes still needed); episodes."""
    report = session.evaluation()
    if report is None:
        raise HTTPException(404, f"the {session.describe().strategy} strategy evaluates nothing (--strategy.type=episodic)")
    return report
