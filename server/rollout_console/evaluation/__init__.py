"""Honest policy evaluation: balanced assignment, outcomes per episode, success rates with intervals.

Leaf package: nothing here touches the robot, the loop or the web server.
"""

from .assignment import Assignment, balanced_assignment
from .results import OUTCOMES, EpisodeRecord, EvaluationBook
from .stats import difference, episodes_needed, fisher_exact, wilson

__all__ = [
    "OUTCOMES",
    "Assignment",
    "EpisodeRecord",
    "EvaluationBook",
    "balanced_assignment",
    "difference",
    "episodes_needed",
    "fisher_exact",
    "wilson",
]
