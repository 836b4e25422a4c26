"""The evaluation's record: one row per episode, and the report built from it (per policy, comparison).

The control thread writes through ``EvaluationBook``'s methods; the API reads ``report()`` from other
threads, so every access takes the lock. A finished episode is never removed: it can only be excluded
from the statistics, with a reason the report shows.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from .stats import difference, episodes_needed, fisher_exact, wilson

__all__ = ["HIDDEN_POLICY", "OUTCOMES", "EpisodeRecord", "EvaluationBook", "describe_pair"]

OUTCOMES = ("success", "failure", "unknown")
HIDDEN_POLICY = "hidden"
DETECTABLE = 0.20
POWER = 0.80
ALPHA = 0.05


@dataclass
class EpisodeRecord:
    """One episode of the evaluation (``episode`` counts from 1, as shown to the operator)."""

    episode: int
    policy: str
    scene_seed: int
    outcome: str | None = None
    outcome_source: str | None = None  # detector | operator | operator_confirmed | operator_overrode | stopped
    detector: bool | None = None  # what the success detector said at the end (None: no detector)
    time_to_success_s: float | None = None
    duration_s: float | None = None
    interventions: int = 0
    excluded: bool = False
    exclude_reason: str | None = None
    reruns: int = 0  # times this episode was discarded and run again before this attempt
    dataset_episode: int | None = None
    ended_at: float | None = None
    started_at: float = field(default_factory=time.time)

    @property
    def counted(self) -> bool:
        """Counted in the success rate: labelled success or failure and not excluded."""
        return self.outcome in ("success", "failure") and not self.excluded


class EvaluationBook:
    """Thread-safe store of the episodes and the statistics over them."""

    def __init__(self, policies: list[str], planned: int, blind: bool = False) -> None:
        self.policies = list(policies)
        self.planned = planned
        self.blind = blind
        self._episodes: list[EpisodeRecord] = []
        self._lock = threading.Lock()

    # ------------------------------------------------------------ writes (control thread)

    def begin(self, episode: int, policy: str, scene_seed: int, reruns: int = 0) -> EpisodeRecord:
        record = EpisodeRecord(episode=episode, policy=policy, scene_seed=scene_seed, reruns=reruns)
        with self._lock:
            self._episodes.append(record)
        return record

    def drop(self, record: EpisodeRecord) -> None:
        """Forget an episode that was re-recorded before its outcome was given (nothing was saved)."""
        with self._lock:
            if record in self._episodes:
                self._episodes.remove(record)

    def update(self, record: EpisodeRecord, **values: Any) -> None:
        with self._lock:
            for key, value in values.items():
                setattr(record, key, value)

    def exclude(self, episode: int, reason: str) -> EpisodeRecord | str:
        """Leave a finished episode out of the statistics; returns it, or why it cannot be excluded."""
        with self._lock:
            for record in self._episodes:
                if record.episode == episode and record.outcome is not None:
                    record.excluded, record.exclude_reason = True, reason
                    return record
        return f"episode {episode} has no outcome yet (only finished episodes can be excluded)"

    # ------------------------------------------------------------------- reads (any thread)

    @property
    def finished(self) -> int:
        with self._lock:
            return sum(1 for record in self._episodes if record.outcome is not None)

    def episodes(self, hide_open: bool | None = None) -> list[dict[str, Any]]:
        """Episode rows; in blind mode an episode without an outcome does not show its policy."""
        hide = self.blind if hide_open is None else hide_open
        with self._lock:
            rows = [asdict(record) for record in self._episodes]
        for row in rows:
            if hide and row["outcome"] is None:
                row["policy"] = HIDDEN_POLICY
        return rows

    def report(self, hide_open: bool | None = None) -> dict[str, Any]:
        """``{"policies": [...], "comparison": {...}, "episodes": [...]}`` (the API and results.json)."""
        episodes = self.episodes(hide_open)
        policies = [self._policy_summary(name, [e for e in episodes if e["policy"] == name]) for name in self.policies]
        return {
            "planned_episodes": self.planned,
            "finished_episodes": sum(1 for e in episodes if e["outcome"] is not None),
            "blind": self.blind,
            "policies": policies,
            "comparison": self._comparison(policies),
            "episodes": episodes,
        }

    @staticmethod
    def _policy_summary(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        counted = [r for r in rows if r["outcome"] in ("success", "failure") and not r["excluded"]]
        successes = sum(1 for r in counted if r["outcome"] == "success")
        n = len(counted)
        interval = wilson(successes, n)
        times = [r["time_to_success_s"] for r in counted if r["outcome"] == "success" and r["time_to_success_s"] is not None]
        durations = [r["duration_s"] for r in counted if r["duration_s"] is not None]
        return {
            "name": name,
            "episodes": n,
            "successes": successes,
            "failures": n - successes,
            "unknown": sum(1 for r in rows if r["outcome"] == "unknown" and not r["excluded"]),
            "excluded": sum(1 for r in rows if r["excluded"]),
            "success_rate": round(successes / n, 4) if n else None,
            "ci95": [round(interval[0], 4), round(interval[1], 4)] if interval else None,
            "time_to_success_mean_s": round(statistics.fmean(times), 3) if times else None,
            "time_to_success_median_s": round(statistics.median(times), 3) if times else None,
            "episode_mean_s": round(statistics.fmean(durations), 3) if durations else None,
            "interventions_per_episode": round(sum(r["interventions"] for r in counted) / n, 3) if n else None,
        }

    @staticmethod
    def _comparison(policies: list[dict[str, Any]]) -> dict[str, Any]:
        if len(policies) < 2:
            return {"baseline": policies[0]["name"] if policies else None, "pairs": [], "summary": None}
        baseline = policies[0]
        pairs = [describe_pair(baseline, other) for other in policies[1:]]
        return {"baseline": baseline["name"], "pairs": pairs, "summary": " ".join(p["summary"] for p in pairs),
                "method": "difference B - A with Newcombe's hybrid score 95 % interval; two-sided Fisher's exact "
                          f"test; episodes needed for a {DETECTABLE * 100:.0f}-point difference at "
                          f"{POWER * 100:.0f} % power (alpha {ALPHA:g}) from the pooled success rate; "
                          "each policy is compared with the first (no correction for multiple comparisons)"}


def _points(value: float) -> str:
    return f"{value * 100:.0f}"


def describe_pair(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Compare policy ``b`` with ``a`` (the baseline), in numbers and in words."""
    s_a, n_a, s_b, n_b = a["successes"], a["episodes"], b["successes"], b["episodes"]
    pair: dict[str, Any] = {"a": a["name"], "b": b["name"], "successes_a": s_a, "episodes_a": n_a,
                            "successes_b": s_b, "episodes_b": n_b, "difference": None, "ci95": None,
                            "p_value": None, "test": "fisher_exact", "verdict": "no_data",
                            "more_episodes_each": None}
    diff = difference(s_a, n_a, s_b, n_b)
    if diff is None:
        pair["summary"] = f"{b['name']} vs {a['name']}: no labelled episodes of both yet."
        return pair
    p_value = fisher_exact(s_a, n_a, s_b, n_b)
    pooled = (s_a + s_b) / (n_a + n_b)
    needed = episodes_needed(pooled, DETECTABLE, POWER, ALPHA)
    more = max(0, needed - min(n_a, n_b))
    significant = p_value < ALPHA and (diff.low > 0 or diff.high < 0)
    pair.update(difference=round(diff.estimate, 4), ci95=[round(diff.low, 4), round(diff.high, 4)],
                p_value=round(p_value, 4), pooled_success_rate=round(pooled, 4), episodes_needed_each=needed,
                more_episodes_each=more)
    numbers = (f"{s_b}/{n_b} vs {s_a}/{n_a}, difference {_points(diff.estimate)} points, 95 % CI "
               f"{_points(diff.low)} to {_points(diff.high)}, p = {p_value:.3f}")
    if significant and diff.estimate > 0:
        pair["verdict"] = "b_better"
        pair["summary"] = f"{b['name']} is better than {a['name']}: {numbers}."
    elif significant:  # stated from the better one's side: its counts first, a positive difference
        pair["verdict"] = "a_better"
        pair["summary"] = (f"{a['name']} is better than {b['name']}: {s_a}/{n_a} vs {s_b}/{n_b}, difference "
                           f"{_points(-diff.estimate)} points, 95 % CI {_points(-diff.high)} to {_points(-diff.low)}, "
                           f"p = {p_value:.3f}.")
    else:
        pair["verdict"] = "not_distinguishable"
        pair["summary"] = (f"{b['name']} and {a['name']} are not distinguishable yet: {numbers}; about {more} more "
                           f"episodes each would be needed to detect a {_points(DETECTABLE)}-point difference at "
                           f"{_points(POWER)} % power (pooled success rate {_points(pooled)} %).")
    return pair
