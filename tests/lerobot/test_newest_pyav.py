"""The recording round trip on Python 3.12 with the newest PyAV (19: stream rates are ``AVRational``).

LeRobot 0.6 bounds PyAV below 16, so this venv's own PyAV is 15; a user who installs the console on Python
3.12 without LeRobot gets PyAV 19, where ``int(stream.base_rate)`` raised and every episode save failed.
``scripts/lerobot_env.sh`` puts that PyAV in ``.venv-lerobot/pyav-latest``; the recorder's round-trip tests
run here against it in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

SIDE = Path(sys.prefix) / "pyav-latest"
TESTS = ["tests/unit/recording/test_writer_roundtrip.py", "tests/unit/recording/test_video_rates.py"]


def test_recording_round_trip_with_the_newest_pyav() -> None:
    if not (SIDE / "av").is_dir():
        pytest.fail(f"{SIDE} is missing: rebuild the venv with `scripts/lerobot_env.sh --force`")
    env = {**os.environ, "PYTHONPATH": str(SIDE), "HF_HUB_OFFLINE": "1"}
    version = subprocess.run([sys.executable, "-c", "import av; print(av.__version__, av.__file__)"],
                             capture_output=True, text=True, env=env, check=True).stdout.split()
    assert int(version[0].split(".")[0]) >= 19 and version[1].startswith(str(SIDE)), version
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout
