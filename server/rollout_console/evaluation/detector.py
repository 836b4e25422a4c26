"""Success detectors: the robot's own (the sim reports its task's success) or one a robot setup provides.

A detector is a callable ``(observation) -> bool | None``: True once the task is achieved, False while
it is not, None when it cannot tell. It runs on the control thread every tick, so it must be quick.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigError

__all__ = ["SuccessDetector", "load_detector", "robot_detector"]

SuccessDetector = Callable[[dict[str, Any]], "bool | None"]


def robot_detector(task_status: Callable[[], Mapping[str, Any] | None]) -> SuccessDetector:
    """A detector reading ``task_status()["success"]`` of a robot that reports its task (the sim)."""

    def detect(observation: dict[str, Any]) -> bool | None:
        status = task_status()
        success = None if status is None else status.get("success")
        return None if success is None else bool(success)

    return detect


def load_detector(spec: str) -> SuccessDetector:
    """Import ``package.module:function`` (``--strategy.success_detector``); its errors name the flag."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"expected module:function (got {spec!r})", flag="--strategy.success_detector")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import {module_name}: {exc}", flag="--strategy.success_detector") from None
    detector = getattr(module, attribute, None)
    if not callable(detector):
        raise ConfigError(f"{module_name} has no function {attribute!r}", flag="--strategy.success_detector")
    return detector
