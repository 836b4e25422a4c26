"""The short version of ``make faults``: every fault scenario once or a few times, on real processes.

Each scenario checks behaviour (paused with the cause named, nothing acknowledged lost, the dataset
verifies, resume works after the fault is gone); the figures it also returns (time to pause, stop
times) are printed by ``make faults`` and never asserted here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faults import overload, scenarios, signals

pytestmark = pytest.mark.slow


def test_sigterm_and_sigint_stop_gracefully_and_signals_lose_nothing(tmp_path: Path) -> None:
    results = signals.run(tmp_path, trials=3, seed=11, kill_trials=1)
    for figures in results:
        assert not figures.failures, figures.line() + "\n" + "\n".join(figures.failures)
        assert figures.lost == 0
    graceful = [f for f in results if f.name in ("SIGTERM", "SIGINT")]
    assert all(f.exit_codes == [0] * f.trials and f.verified == f.trials for f in graceful)


@pytest.mark.parametrize("scenario", [scenarios.disk_full, scenarios.encoder_failure, scenarios.lease_lapse,
                                      scenarios.stale_camera], ids=lambda s: s.__name__)
def test_single_faults_pause_with_the_cause_and_lose_nothing(scenario, tmp_path: Path) -> None:
    figures = scenario(tmp_path)
    assert figures.passed, figures.line()
    assert figures.lost == 0


def test_overload_degrades_without_session_errors(tmp_path: Path) -> None:
    figures = overload.run(tmp_path, seconds=25, hogs=1, small=True)
    assert figures.passed, figures.line()
    assert figures.errors == 0 and figures.lost == 0
