"""Strategies: base, sentry, highlight, dagger; one tick each, built from shared steps."""

from .base import COMMON_TRANSITIONS, BaseStrategy, Strategy
from .context import TickContext

__all__ = ["COMMON_TRANSITIONS", "BaseStrategy", "Strategy", "TickContext", "make_strategy"]


def make_strategy(config: object) -> Strategy:
    """The strategy named by ``config.strategy.type``."""
    strategy_type = getattr(getattr(config, "strategy"), "type")
    factories = {"base": BaseStrategy}
    if strategy_type not in factories:
        raise ValueError(f"unknown strategy {strategy_type!r}; known: {', '.join(factories)}")
    return factories[strategy_type]()
