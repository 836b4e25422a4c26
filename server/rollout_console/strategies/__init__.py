"""Strategies: base, sentry, highlight, dagger, episodic; one tick each, built from shared steps.

Every strategy class registers itself in ``STRATEGIES`` under its ``--strategy.type``; importing this
package imports each strategy module, so the registry is complete.
"""

from __future__ import annotations

from ..config import RolloutConsoleConfig
from . import dagger, episodic, highlight, sentry  # noqa: F401  (each registers its strategy)
from .base import COMMON_TRANSITIONS, STRATEGIES, BaseStrategy, Strategy, StrategyParts
from .context import TickContext
from .recording import Recording

__all__ = ["COMMON_TRANSITIONS", "STRATEGIES", "BaseStrategy", "Strategy", "StrategyParts", "TickContext",
           "make_strategy"]


def make_strategy(config: RolloutConsoleConfig, recording: Recording | None, parts: StrategyParts) -> Strategy:
    """The strategy named by ``config.strategy.type`` (validated by the config already)."""
    return STRATEGIES.get(config.strategy.type).build(config, recording, parts)
