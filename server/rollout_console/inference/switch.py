"""EngineSwitch: several loaded policies behind one InferenceEngine, switched between episodes.

Every policy (and its engine) is built and started before the control loop runs; a switch is a pointer
swap plus an engine reset, so changing policies never stalls the loop. With ``blind`` set the switch
hides which policy drives (name, latency and engine details) from status and metrics until the strategy
reveals it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .base import InferenceEngine

__all__ = ["HIDDEN", "EngineSwitch"]

HIDDEN = "hidden (blind evaluation)"
_HIDDEN_LATENCY = {"p50": None, "p95": None}


class EngineSwitch:
    """Delegates to the engine of the selected policy; the others stay paused."""

    name = "switch"

    def __init__(self, engines: Mapping[str, InferenceEngine], blind: bool = False) -> None:
        if not engines:
            raise ValueError("an EngineSwitch needs at least one engine")
        self.engines = dict(engines)
        self.blind = blind
        self.revealed = not blind
        self.selected = next(iter(self.engines))
        self._current = self.engines[self.selected]

    @property
    def current(self) -> InferenceEngine:
        return self._current

    @property
    def policy_name(self) -> str:
        return self._current.policy_name if self.revealed else HIDDEN

    def select(self, name: str) -> None:
        """Make ``name`` drive from the next policy tick on (called on the loop thread between episodes)."""
        engine = self.engines[name]
        if engine is not self._current:
            self._current.pause()
            self._current.reset()
        self.selected, self._current = name, engine
        engine.reset()

    def start(self) -> None:
        for engine in self.engines.values():
            engine.start()
            if engine is not self._current:
                engine.pause()

    def stop(self) -> None:
        for engine in self.engines.values():
            engine.stop()

    def reset(self) -> None:
        self._current.reset()

    def pause(self) -> None:
        self._current.pause()

    def resume(self) -> None:
        self._current.resume()

    def next_action(self, observation: dict[str, Any]) -> np.ndarray | None:
        return self._current.next_action(observation)

    def status(self) -> dict[str, Any]:
        status = self._current.status()
        if self.revealed:
            return {**status, "policy": self.selected}
        # the engine type, its latency and its errors could tell the policies apart: show only what is neutral
        return {
            "engine": HIDDEN,
            "policy": HIDDEN,
            "latency_ms": dict(_HIDDEN_LATENCY),
            "delay_ticks": 0,
            "queue_depth": 0,
            "starved_ticks": 0,
            "boundary_jump": {"last": None, "p99": None, "max": None},
            "errors": None,
            "last_error": None,
        }
