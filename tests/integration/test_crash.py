"""kill -9 during sentry recording never loses or corrupts an acknowledged episode (20 trials)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "crash_trials.py"


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 20 trials take ~3 min idle and scale with the machine's load
def test_twenty_random_kills_lose_nothing(tmp_path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("crash_trials", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    status = module.run(trials=20, seed=7, keep=tmp_path)
    output = capsys.readouterr().out
    assert status == 0, output
    assert output.count(": ok (") == 20
