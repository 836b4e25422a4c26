"""The evaluation statistics against values computed independently (scipy, published examples)."""

from __future__ import annotations

import itertools

import pytest
from rollout_console.evaluation.stats import difference, episodes_needed, fisher_exact, wilson

scipy_stats = pytest.importorskip("scipy.stats")

COUNTS = [(s, n) for n in (1, 2, 5, 10, 20, 37, 100) for s in sorted({0, 1, n // 3, n // 2, n - 1, n}) if 0 <= s <= n]


@pytest.mark.parametrize(("successes", "n"), COUNTS)
def test_wilson_matches_scipy(successes: int, n: int) -> None:
    expected = scipy_stats.binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson(successes, n)
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)


def test_wilson_edge_cases() -> None:
    assert wilson(0, 0) is None
    low, high = wilson(0, 10)
    assert low == 0.0 and 0.25 < high < 0.35  # never zero-width at 0/n
    with pytest.raises(ValueError):
        wilson(11, 10)


TABLES = [(a, n_a, b, n_b) for (n_a, n_b) in ((5, 5), (10, 12), (20, 20), (7, 30))
          for a, b in itertools.product(sorted({0, 1, n_a // 2, n_a}), sorted({0, 2, n_b // 2, n_b - 1}))]


@pytest.mark.parametrize(("s_a", "n_a", "s_b", "n_b"), TABLES)
def test_fisher_exact_matches_scipy(s_a: int, n_a: int, s_b: int, n_b: int) -> None:
    table = [[s_a, n_a - s_a], [s_b, n_b - s_b]]
    expected = scipy_stats.fisher_exact(table, alternative="two-sided").pvalue
    assert fisher_exact(s_a, n_a, s_b, n_b) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_fisher_on_the_issue_example() -> None:
    expected = scipy_stats.fisher_exact([[17, 3], [9, 11]]).pvalue
    assert fisher_exact(9, 20, 17, 20) == pytest.approx(expected, rel=1e-9)
    assert fisher_exact(9, 20, 17, 20) < 0.05


def test_newcombe_difference_published_example() -> None:
    """Newcombe (1998), Statistics in Medicine 17:873, table II example (a): 56/70 - 48/80, method 10."""
    diff = difference(48, 80, 56, 70)
    assert diff.estimate == pytest.approx(0.2, abs=1e-12)
    assert diff.low == pytest.approx(0.0524, abs=5e-5)
    assert diff.high == pytest.approx(0.3339, abs=5e-5)


@pytest.mark.parametrize(("s_a", "n_a", "s_b", "n_b"), [(9, 20, 17, 20), (0, 10, 10, 10), (3, 7, 3, 7), (1, 5, 12, 40)])
def test_newcombe_difference_from_scipy_wilson_limits(s_a: int, n_a: int, s_b: int, n_b: int) -> None:
    """Method 10 built from scipy's Wilson limits gives the same interval."""
    a = scipy_stats.binomtest(s_a, n_a).proportion_ci(method="wilson")
    b = scipy_stats.binomtest(s_b, n_b).proportion_ci(method="wilson")
    p_a, p_b = s_a / n_a, s_b / n_b
    low = (p_b - p_a) - ((p_b - b.low) ** 2 + (a.high - p_a) ** 2) ** 0.5
    high = (p_b - p_a) + ((b.high - p_b) ** 2 + (p_a - a.low) ** 2) ** 0.5
    diff = difference(s_a, n_a, s_b, n_b)
    assert diff.low == pytest.approx(max(-1.0, low), abs=1e-9)
    assert diff.high == pytest.approx(min(1.0, high), abs=1e-9)
    assert diff.low <= diff.estimate <= diff.high


def _power(p1: float, p2: float, n: int) -> float:
    """Power of the two-sided two-proportion z-test (normal approximation), from scipy's normal."""
    norm = scipy_stats.norm
    p_bar = (p1 + p2) / 2
    z_alpha = norm.ppf(0.975)
    se0 = (2 * p_bar * (1 - p_bar) / n) ** 0.5
    se1 = ((p1 * (1 - p1) + p2 * (1 - p2)) / n) ** 0.5
    return float(norm.cdf((abs(p2 - p1) - z_alpha * se0) / se1))


@pytest.mark.parametrize("pooled", [0.1, 0.3, 0.5, 0.6, 0.75, 0.95, 1.0, 0.0])
def test_episodes_needed_is_the_smallest_n_with_80_percent_power(pooled: float) -> None:
    n = episodes_needed(pooled)
    centre = min(max(pooled, 0.1), 0.9)
    p1, p2 = centre - 0.1, centre + 0.1
    assert _power(p1, p2, n) >= 0.8 - 1e-9
    assert _power(p1, p2, n - 1) < 0.8


def test_episodes_needed_textbook_value() -> None:
    """0.5 vs 0.7, alpha 0.05 two-sided, power 0.8: 93 per group (Fleiss, without continuity correction)."""
    assert episodes_needed(0.6) == 93
