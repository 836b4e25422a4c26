"""docker/: what can be checked without a Docker engine (none where these tests run).

The compose file parses, every service's command is a valid console configuration, the Dockerfile copies
files that exist and pins the same torch as constraints.txt, and the health check path needs no token.
"""

from __future__ import annotations

import re

import yaml
from helpers import REPO
from rollout_console.api.access import _OPEN_PATHS
from rollout_console.config import load_config

DOCKERFILE = (REPO / "docker" / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((REPO / "docker" / "compose.yaml").read_text())


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE)
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            rows.append((keyword.upper(), rest.strip()))
    return rows


def test_dockerfile_copies_existing_files_and_pins_cpu_torch() -> None:
    copies = [rest for keyword, rest in _instructions() if keyword == "COPY" and not rest.startswith("--from")]
    assert copies
    for rest in copies:
        *sources, _destination = rest.split()
        for source in sources:
            assert (REPO / source).exists(), source
    # torch pins are read from the constraints files at build time (core: constraints.txt; LeRobot: the
    # .venv-lerobot constraints), so the image cannot drift from what the test suites ran with
    assert "download.pytorch.org/whl/cpu" in DOCKERFILE
    assert "grep -E '^torch==' constraints.txt" in DOCKERFILE
    assert "grep -E '^(torch|torchvision)==' requirements/lerobot-constraints.txt" in DOCKERFILE
    lerobot_pins = (REPO / "requirements" / "lerobot-constraints.txt").read_text()
    for package in ("torch", "torchvision", "lerobot"):
        assert re.search(rf"^{package}==\S+$", lerobot_pins, re.MULTILINE), package
    assert '-c requirements/lerobot-constraints.txt ".[lerobot]"' in DOCKERFILE and "--no-deps" not in DOCKERFILE
    assert "ARG PYTHON_IMAGE=python:3.12-" in DOCKERFILE  # LeRobot 0.6 needs Python 3.12
    keywords = [keyword for keyword, _ in _instructions()]
    assert "USER" in keywords and "HEALTHCHECK" in keywords
    user = next(rest for keyword, rest in _instructions() if keyword == "USER")
    assert user not in ("root", "0")


def test_healthcheck_and_entrypoint() -> None:
    health = next(rest for keyword, rest in _instructions() if keyword == "HEALTHCHECK")
    assert "/healthz" in health and "/healthz" in _OPEN_PATHS  # no token needed for the probe
    entrypoint = next(rest for keyword, rest in _instructions() if keyword == "ENTRYPOINT")
    flags = yaml.safe_load(entrypoint)[1:]
    config = load_config(flags)
    assert config.server.host == "0.0.0.0" and config.server.port == 8000
    assert "EXPOSE 8000" in DOCKERFILE


def test_compose_services() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"sim", "so101"}
    sim, so101 = services["sim"], services["so101"]
    assert sim["ports"] == ["8000:8000"] and sim["build"]["dockerfile"] == "docker/Dockerfile"
    assert (REPO / "docker" / sim["build"]["context"] / sim["build"]["dockerfile"]).resolve() == \
        (REPO / "docker" / "Dockerfile").resolve()
    config = load_config(sim["command"])
    assert config.strategy.type == "sentry" and config.dataset is not None
    assert so101["build"]["args"]["WITH_LEROBOT"] == "true" and so101["restart"] == "no"
    devices = [entry.split(":")[0] for entry in so101["devices"]]
    assert "/dev/ttyACM0" in devices and "/dev/video0" in devices
    assert any(path.startswith("/dev/input/by-id/") for path in devices)
    pedal = next(flag for flag in so101["command"] if flag.startswith("--pedal.device_path="))
    assert pedal.split("=", 1)[1] in devices
    for service in (sim, so101):
        # tokens pass through from the shell (an empty one would be refused at start)
        assert service["environment"] == ["ROLLOUT_CONSOLE_TOKEN", "ROLLOUT_CONSOLE_VIEWER_TOKEN", "HF_TOKEN"]
    assert any(volume.endswith(":/data") for volume in sim["volumes"])
