"""Builds every policy an evaluation compares, each in its own engine, behind one EngineSwitch.

All policies load here, before the control loop starts, so switching between episodes costs a pointer
swap and an engine reset. A combination that cannot work is refused naming the entry at fault.
"""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from ..features import FeatureLayout
from ..policies.registry import make_policy
from .factory import build_engine_for
from .switch import EngineSwitch

__all__ = ["build_policy_switch", "policy_names"]


def policy_names(config: Any) -> list[str]:
    """Display names of the evaluated policies, unique (``--strategy.policies``, or the one ``--policy``)."""
    from ..config.episodic import policy_label

    entries = config.strategy.policies
    wanted = [entry.name or policy_label(entry.policy) for entry in entries] if entries else [policy_label(config.policy)]
    names: list[str] = []
    for name in wanted:
        unique, k = name, 2
        while unique in names:
            unique, k = f"{name}#{k}", k + 1
        names.append(unique)
    return names


def build_policy_switch(config: Any, layout: FeatureLayout) -> EngineSwitch:
    """One engine per evaluated policy (each entry's own inference section, else ``--inference``)."""
    names = policy_names(config)
    entries = config.strategy.policies
    engines = {}
    if not entries:
        policy = make_policy(config.policy, layout, fps=config.fps)
        engines[names[0]] = build_engine_for(config.inference, policy, fps=config.fps)
    for index, (name, entry) in enumerate(zip(names, entries, strict=False)):
        flag = f"--strategy.policies[{index}]"
        try:
            policy = make_policy(entry.policy, layout, fps=config.fps)
            engines[name] = build_engine_for(entry.inference or config.inference, policy, fps=config.fps)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}", flag=flag) from None
    return EngineSwitch(engines, blind=config.strategy.blind)
