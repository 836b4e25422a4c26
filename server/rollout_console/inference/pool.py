"""Builds every policy an evaluation compares, each in its own engine, behind one EngineSwitch.

All policies load here, before the control loop starts, so switching between episodes costs a pointer
swap and an engine reset. A combination that cannot work is refused naming the entry at fault.
"""

from __future__ import annotations

from ..config import RolloutConsoleConfig
from ..config.episodic import EpisodicStrategyConfig, policy_label
from ..errors import ConfigError
from ..features import FeatureLayout
from ..policies.registry import make_policy
from .base import InferenceEngine
from .factory import build_engine_for
from .switch import EngineSwitch

__all__ = ["build_policy_switch", "policy_names"]


def policy_names(config: RolloutConsoleConfig) -> list[str]:
    """Display names of the evaluated policies, unique (``--strategy.policies``, or the one ``--policy``)."""
    entries = _evaluation(config).policies
    wanted = [entry.name or policy_label(entry.policy) for entry in entries] if entries else [policy_label(config.policy)]
    names: list[str] = []
    for name in wanted:
        unique, k = name, 2
        while unique in names:
            unique, k = f"{name}#{k}", k + 1
        names.append(unique)
    return names


def build_policy_switch(config: RolloutConsoleConfig, layout: FeatureLayout) -> EngineSwitch:
    """One engine per evaluated policy (each entry's own inference section, else ``--inference``)."""
    names = policy_names(config)
    evaluation = _evaluation(config)
    entries = evaluation.policies
    engines: dict[str, InferenceEngine] = {}
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
    return EngineSwitch(engines, blind=evaluation.blind)


def _evaluation(config: RolloutConsoleConfig) -> EpisodicStrategyConfig:
    if not isinstance(config.strategy, EpisodicStrategyConfig):
        raise ValueError(f"--strategy.type={config.strategy.type} evaluates no policies")
    return config.strategy
