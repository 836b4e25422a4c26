"""The core (every module, the LeRobot adapters included) imports without importing LeRobot or torchvision."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = r"""
import importlib, json, pkgutil, sys
import rollout_console
names = []
for module in pkgutil.walk_packages(rollout_console.__path__, "rollout_console."):
    if module.name.endswith("__main__"):
        continue
    importlib.import_module(module.name)
    names.append(module.name)
heavy = sorted(name for name in sys.modules if name.split(".")[0] in ("lerobot", "torchvision", "draccus", "datasets"))
print(json.dumps({"modules": names, "heavy": heavy}))
"""


def test_every_core_module_imports_without_lerobot() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    modules = set(report["modules"])
    assert {"rollout_console.hardware.lerobot.factory", "rollout_console.hardware.lerobot.robot",
            "rollout_console.policies.lerobot_policy", "rollout_console.config.lerobot",
            "rollout_console.api.metrics", "rollout_console.cli"} <= modules
    assert len(modules) > 60
    assert report["heavy"] == []


SHIM = r"""
import importlib.util, json, sys
from rollout_console.hardware.lerobot import _torchvision_cpu
state = _torchvision_cpu.installed()
ok = None
if importlib.util.find_spec("torchvision") is not None:
    import torchvision.transforms.v2  # noqa: F401  (fails on CPU torch without the shim)
    from torchvision.models import resnet18
    ok = resnet18(weights=None).fc.out_features == 1000
print(json.dumps({"state": state, "again": _torchvision_cpu.install(), "ok": ok}))
"""


def test_torchvision_shim() -> None:
    """Without torchvision (core venv) the shim does nothing; with PyPI's CUDA torchvision on CPU torch
    (.venv-lerobot) it defines the missing operators so torchvision imports and its models build."""
    result = subprocess.run([sys.executable, "-c", SHIM], capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["state"] == report["again"]  # idempotent
    if report["state"] == "absent":
        assert report["ok"] is None
    else:
        assert report["state"] in ("schemas", "native") and report["ok"] is True
