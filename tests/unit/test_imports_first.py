"""Every module of rollout_console imports first, in a fresh interpreter (no import cycle hides behind order).

``import rollout_console.strategies`` as a program's first import used to fail: strategies imported runtime's
commands, whose package imported the builder, which imports strategies. ``tests/import_runner.py`` imports
each module first in its own forked child of a fresh interpreter (see there why that is fast and exact).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "server" / "rollout_console"
RUNNER = ROOT / "tests" / "import_runner.py"

NOT_IMPORTED = {"rollout_console.__main__": "starts a server"}

OPTIONAL_DEPENDENCIES = frozenset({"lerobot", "evdev", "torchvision", "transformers", "draccus", "serial",
                                   "feetech_servo_sdk", "scservo_sdk", "dynamixel_sdk", "pynput"})
"""Extras that may be absent from the core venv: a module needing one is skipped, naming it."""


def all_modules() -> list[str]:
    modules = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules.append(".".join(parts))
    return modules


@cache
def _results() -> dict[str, dict]:
    modules = [m for m in all_modules() if m not in NOT_IMPORTED]
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(RUNNER), *modules], capture_output=True, text=True, env=env,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-4000:]
    results = {}
    for line in done.stdout.splitlines():
        result = json.loads(line)
        results[result["module"]] = result
    assert set(results) == set(modules), f"no result for {sorted(set(modules) - set(results))}"
    return results


def test_the_package_has_the_modules_we_expect() -> None:
    modules = all_modules()
    assert "rollout_console.strategies" in modules and "rollout_console.protocol.commands" in modules
    assert "rollout_console.runtime.commands" not in modules, "phases/commands/events live in protocol/"


@pytest.mark.parametrize("module", [m for m in all_modules() if m not in NOT_IMPORTED])
def test_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    result = _results()[module]
    if not result["ok"] and result.get("missing") in OPTIONAL_DEPENDENCIES:
        pytest.skip(f"{module} needs the optional dependency {result['missing']!r}, not installed here")
    assert result["ok"], f"importing {module} first fails:\n{result.get('traceback') or result['error']}"


def test_strategies_import_first_as_a_program_would() -> None:
    """The case the issue found, spelled out: a real ``python -c`` whose first import is the strategies."""
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    done = subprocess.run([sys.executable, "-c", "import rollout_console.strategies"], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
