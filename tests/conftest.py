"""Shared test setup: offline Hugging Face, the tests directory importable for helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

# Datasets without a root and the session history (under --server.data_dir, default $HF_LEROBOT_HOME) go to
# a temporary directory, never into the user's ~/.cache during tests.
if "HF_LEROBOT_HOME" not in os.environ:
    import tempfile

    os.environ["HF_LEROBOT_HOME"] = tempfile.mkdtemp(prefix="rollout-console-tests-")
