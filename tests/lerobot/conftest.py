"""Tests that need LeRobot 0.6.1: run them in .venv-lerobot (`make test-lerobot`, part of `make test`).

They prove the console's datasets with LeRobot's own reader, drive LeRobot-registered devices through
LeRobot's factories and deploy a real (randomly initialised) LeRobot ACT policy, all offline.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

if importlib.util.find_spec("lerobot") is None:
    raise pytest.UsageError(
        "tests/lerobot needs LeRobot: run them with .venv-lerobot/bin/python -m pytest tests/lerobot "
        "(create it with scripts/lerobot_env.sh); the core venv runs everything else with --ignore=tests/lerobot"
    )

from rollout_console.errors import ConfigError
from rollout_console.hardware.lerobot.version import check_lerobot_version

try:
    check_lerobot_version()
except ConfigError as exc:
    raise pytest.UsageError(f"tests/lerobot: {exc} (rebuild .venv-lerobot with scripts/lerobot_env.sh)") from None

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))  # fake_lerobot_devices, lerobot_helpers

from rollout_console.hardware.lerobot import _torchvision_cpu

_torchvision_cpu.install()
