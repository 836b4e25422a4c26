"""The light client (`pip install ./client`) in a fresh venv: no torch, OpenCV, PyAV or FastAPI, and its
`rollout-ctl` drives a real server from that second interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from helpers import REPO, config, live_server

HEAVY = ("torch", "cv2", "av", "numpy", "fastapi", "uvicorn", "pyarrow")


def _pip(python: Path, *args: str) -> None:
    done = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args], capture_output=True,
                          text=True, timeout=600, cwd=REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def light(tmp_path_factory) -> Path:
    """A fresh venv holding only the light client and what its metadata asks for; returns its bin/."""
    where = tmp_path_factory.mktemp("light")
    _pip(Path(sys.executable), "wheel", "--no-deps", "-w", str(where / "dist"), str(REPO / "client"))
    (wheel,) = (where / "dist").glob("rollout_console_client-*.whl")
    venv.EnvBuilder(with_pip=True, clear=True).create(where / "venv")
    bin_dir = where / "venv" / "bin"
    _pip(bin_dir / "python", "install", "-c", str(REPO / "constraints.txt"), str(wheel))  # its own dependencies
    return bin_dir


def test_the_light_client_installs_without_the_server_stack(light) -> None:
    code = ("import importlib.util, json; import rollout_console.client, rollout_console.client.ctl; "
            f"print(json.dumps([m for m in {HEAVY!r} if importlib.util.find_spec(m)]))")
    found = subprocess.run([str(light / "python"), "-c", code], capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout) == [], "the light client must not pull the server's dependencies"
    helped = subprocess.run([str(light / "rollout-ctl"), "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "exit status" in helped.stdout and "sessions" in helped.stdout
    assert subprocess.run([str(light / "rollout-ctl")], capture_output=True, timeout=60).returncode == 2


def test_rollout_ctl_from_the_light_venv_drives_a_real_server(light) -> None:
    with live_server(config("--return_to_initial_position=false")) as live:
        def ctl(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([str(light / "rollout-ctl"), live.url, *args], capture_output=True, text=True,
                                  timeout=120)

        status = ctl("--json", "status")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["strategy"] == "base"
        paused = ctl("pause")
        assert paused.returncode == 0 and "paused" in paused.stdout
        refused = ctl("takeover")
        assert refused.returncode == 3 and "not available with the base strategy" in refused.stderr
        assert ctl("resume").returncode == 0
