"""The choices the page's New session form offers (strategies, record modes, engines, built-in policies)."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from ..config.inference import InferenceConfig
from ..config.strategy import DaggerStrategyConfig, StrategyConfig

__all__ = ["ENGINE_CHOICES", "RECORD_MODES", "STRATEGY_CHOICES", "builtin_policy_names"]


def _types(union: object) -> tuple[str, ...]:
    """The ``type`` literal of each model in an (annotated, discriminated) union."""
    names: list[str] = []
    stack = [union]
    while stack:
        item = stack.pop(0)
        fields = getattr(item, "model_fields", None)
        if fields and "type" in fields:
            names.extend(str(v) for v in get_args(fields["type"].annotation))
        else:
            stack.extend(get_args(item))
    return tuple(dict.fromkeys(names))


STRATEGY_CHOICES = _types(StrategyConfig)
ENGINE_CHOICES = _types(InferenceConfig)
RECORD_MODES = tuple(str(v) for v in get_args(DaggerStrategyConfig.model_fields["record"].annotation))


def builtin_policy_names() -> list[str]:
    """``builtin:NAME`` for every checkpoint shipped with the package."""
    root = Path(__file__).resolve().parents[1] / "policies" / "builtin"
    return sorted(f"builtin:{p.name}" for p in root.iterdir() if (p / "config.json").exists()) if root.is_dir() else []
