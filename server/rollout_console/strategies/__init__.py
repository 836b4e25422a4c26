"""Strategies: base, sentry, highlight, dagger; one tick each, built from shared steps."""

from __future__ import annotations

from typing import Any

from .base import COMMON_TRANSITIONS, BaseStrategy, Strategy
from .context import TickContext
from .recording import Recording

__all__ = ["COMMON_TRANSITIONS", "BaseStrategy", "Strategy", "TickContext", "make_strategy"]


def _base(config: Any, recording: Recording | None) -> Strategy:
    return BaseStrategy()


def _sentry(config: Any, recording: Recording | None) -> Strategy:
    from .sentry import SentryStrategy

    assert recording is not None
    return SentryStrategy(config.strategy, recording, config.fps)


def _highlight(config: Any, recording: Recording | None) -> Strategy:
    from .highlight import HighlightStrategy

    assert recording is not None
    return HighlightStrategy(config.strategy, recording, config.fps)


def _dagger(config: Any, recording: Recording | None) -> Strategy:
    from .dagger import DaggerStrategy

    assert recording is not None
    return DaggerStrategy(config.strategy, recording, config.fps)


STRATEGIES = {"base": _base, "sentry": _sentry, "highlight": _highlight, "dagger": _dagger}


def make_strategy(config: Any, recording: Recording | None = None) -> Strategy:
    """The strategy named by ``config.strategy.type`` (validated by the config already)."""
    return STRATEGIES[config.strategy.type](config, recording)
