"""The client imports nothing of the server's stack (what makes the light install possible)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "cv2", "av", "numpy", "fastapi", "uvicorn", "starlette", "pyarrow", "rollout_console.runtime",
         "rollout_console.api", "rollout_console.config", "rollout_console.strategies")


def test_importing_the_client_and_ctl_loads_no_server_module() -> None:
    code = ("import json, sys; import rollout_console.client, rollout_console.client.ctl; "
            "print(json.dumps(sorted(m for m in sys.modules)))")
    loaded = set(json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                           text=True, timeout=120).stdout))
    assert not [name for name in HEAVY if name in loaded], sorted(name for name in HEAVY if name in loaded)


def test_the_light_client_carries_the_console_version() -> None:
    """client/pyproject.toml has its own version field: it must move with the console's."""
    import tomllib
    from pathlib import Path

    import rollout_console

    pyproject = Path(__file__).resolve().parents[3] / "client" / "pyproject.toml"
    assert tomllib.loads(pyproject.read_text())["project"]["version"] == rollout_console.__version__
