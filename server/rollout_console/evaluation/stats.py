"""Success-rate statistics: Wilson intervals, a difference with Newcombe's interval, Fisher's exact test,
and how many more episodes a comparison needs. Pure Python (no scipy at run time); the tests check every
function against values computed independently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "Difference",
    "difference",
    "episodes_needed",
    "fisher_exact",
    "wilson",
]

_NORMAL = NormalDist()


def _z(confidence: float) -> float:
    return _NORMAL.inv_cdf(0.5 + confidence / 2.0)


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float] | None:
    """Wilson score interval of a binomial proportion; None without trials.

    Unlike the textbook p ± z·sqrt(p(1-p)/n) it stays inside [0, 1] and is not zero-width at 0/n or n/n,
    which matters for the small counts of robot evaluations.
    """
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in 0..{n} (got {successes})")
    z = _z(confidence)
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends: no 1e-17 left by rounding
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Difference:
    """Success rate of B minus that of A, with Newcombe's hybrid score interval (his method 10)."""

    estimate: float
    low: float
    high: float


def difference(successes_a: int, n_a: int, successes_b: int, n_b: int, confidence: float = 0.95) -> Difference | None:
    """p_B - p_A and its interval, built from the two Wilson intervals (Newcombe 1998, method 10)."""
    a = wilson(successes_a, n_a, confidence)
    b = wilson(successes_b, n_b, confidence)
    if a is None or b is None:
        return None
    p_a, p_b = successes_a / n_a, successes_b / n_b
    estimate = p_b - p_a
    low = estimate - math.sqrt((p_b - b[0]) ** 2 + (a[1] - p_a) ** 2)
    high = estimate + math.sqrt((b[1] - p_b) ** 2 + (p_a - a[0]) ** 2)
    return Difference(estimate, max(-1.0, low), min(1.0, high))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(successes_a: int, n_a: int, successes_b: int, n_b: int) -> float:
    """Two-sided p-value of Fisher's exact test on the 2x2 table (successes, failures) x (A, B).

    Sums the hypergeometric probabilities of every table with the same margins that is no more likely
    than the observed one (with a small relative tolerance for ties, as R and scipy do).
    """
    total_successes = successes_a + successes_b
    n = n_a + n_b
    if n_a <= 0 or n_b <= 0:
        return 1.0
    low = max(0, total_successes - n_b)
    high = min(n_a, total_successes)
    log_denominator = _log_comb(n, total_successes)

    def probability(k: int) -> float:
        return math.exp(_log_comb(n_a, k) + _log_comb(n_b, total_successes - k) - log_denominator)

    observed = probability(successes_a)
    p_value = sum(p for k in range(low, high + 1) if (p := probability(k)) <= observed * (1 + 1e-7))
    return min(1.0, p_value)


def episodes_needed(pooled_rate: float, detectable: float = 0.20, power: float = 0.80, alpha: float = 0.05) -> int:
    """Episodes per policy for a two-sided two-proportion z-test to detect ``detectable`` at ``power``.

    The two rates are placed symmetrically around the pooled success rate seen so far (clipped to stay
    inside [0, 1]); the normal approximation without continuity correction (Fleiss), rounded up.
    """
    if not 0 < detectable < 1:
        raise ValueError("detectable must lie between 0 and 1")
    half = detectable / 2.0
    centre = min(max(pooled_rate, half), 1.0 - half)
    p1, p2 = centre - half, centre + half
    p_bar = (p1 + p2) / 2.0
    z_alpha = _z(1.0 - alpha)
    z_beta = _NORMAL.inv_cdf(power)
    numerator = z_alpha * math.sqrt(2 * p_bar * (1 - p_bar)) + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil((numerator / detectable) ** 2 - 1e-9)
