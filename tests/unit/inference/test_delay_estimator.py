"""DelayEstimator: windowed max (or percentile) of observed delays, warm-up excluded."""

from __future__ import annotations

import pytest

from rollout_console.inference.latency import DelayEstimator


def test_estimate_is_the_max_of_the_last_window_values() -> None:
    est = DelayEstimator(window=4, warmup=0)
    assert est.estimate() is None and est.estimate(default=2) == 2
    for value in (3, 5, 2, 4):
        est.add(value)
    assert est.estimate() == 5
    est.add(1)  # 3 leaves the window; 5 is still in it
    assert est.estimate() == 5
    est.add(1)  # 5 leaves
    assert est.estimate() == 4
    assert est.values == [2, 4, 1, 1]


def test_a_spike_is_forgotten_after_the_window() -> None:
    est = DelayEstimator(window=10, warmup=0)
    for _ in range(10):
        est.add(4)
    est.add(12)  # a 3x spike
    history = []
    for _ in range(10):
        history.append(est.estimate())
        est.add(4)
    assert history[0] == 12 and all(h == 12 for h in history[:10])
    assert est.estimate() == 4  # ten normal inferences later the spike is gone


def test_warmup_observations_are_not_recorded_but_seed_the_first_estimate() -> None:
    est = DelayEstimator(window=10, warmup=2)
    assert est.add(30) is False  # cold start (e.g. lazy init): 30 ticks
    assert est.estimate(default=1) == 30  # conservative until something real was seen
    assert est.add(25) is False
    assert est.add(3) is True
    assert est.estimate() == 3  # the warm-up values never enter the window
    assert len(est) == 1


def test_percentile_and_margin() -> None:
    est = DelayEstimator(window=100, percentile=90, margin=1, warmup=0)
    for value in range(1, 101):
        est.add(value)
    assert est.estimate() == 91 + 1  # ceil(p90 = 90.1) + margin
    with pytest.raises(ValueError):
        DelayEstimator(window=0)
    with pytest.raises(ValueError):
        DelayEstimator(percentile=0)
