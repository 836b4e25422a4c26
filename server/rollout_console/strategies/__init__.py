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


def _episodic(config: Any, recording: Recording | None, **parts: Any) -> Strategy:
    from .episodic_setup import make_episodic

    return make_episodic(config, recording, **parts)


STRATEGIES = {"base": _base, "sentry": _sentry, "highlight": _highlight, "dagger": _dagger, "episodic": _episodic}
NEEDS_PARTS = frozenset({"episodic"})
"""Strategies built with the session's parts (the engine and the robot), not from the config alone."""


def make_strategy(config: Any, recording: Recording | None = None, **parts: Any) -> Strategy:
    """The strategy named by ``config.strategy.type`` (validated by the config already)."""
    kind = config.strategy.type
    if kind in NEEDS_PARTS:
        return STRATEGIES[kind](config, recording, **parts)
    return STRATEGIES[kind](config, recording)
