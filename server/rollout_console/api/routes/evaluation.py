"""GET /api/v1/evaluation: success rates with intervals, the comparison in words, every episode."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from ...protocol.evaluation import Comparison, EvaluationPublic, PolicyResult
from ..deps import SessionDep

__all__ = ["Comparison", "EvaluationPublic", "PolicyResult", "router"]

router = APIRouter(prefix="/api/v1", tags=["evaluation"])


@router.get("/evaluation", response_model=EvaluationPublic, operation_id="evaluation",
            responses={404: {"description": "This strategy evaluates nothing"}})
def evaluation(session: SessionDep) -> dict[str, Any]:
    """Per policy: episodes, successes, success rate with its Wilson 95 % interval, times to success;
    the comparison (difference with its interval, Fisher's exact test, episodes still needed); episodes."""
    report = session.evaluation()
    if report is None:
        raise HTTPException(404, f"the {session.describe().strategy} strategy evaluates nothing (--strategy.type=episodic)")
    return report
