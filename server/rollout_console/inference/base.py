"""The InferenceEngine protocol and the metrics every engine reports."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..runtime.timing import SlidingWindow

__all__ = ["ChunkMetrics", "InferenceEngine"]


@runtime_checkable
class InferenceEngine(Protocol):
    """Turns observations into one action per policy tick.

    ``next_action`` is called on the control thread once per policy tick and returns the action for
    this tick (float32, ``action_names`` order) or None when no fresh action is available (a starved
    tick: the robot then holds). ``reset`` drops every queued or in-flight action (new episode, resume
    after pause); ``pause``/``resume`` stop and restart background work.
    """

    name: str
    policy_name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def reset(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def next_action(self, observation: dict[str, Any]) -> np.ndarray | None: ...

    def status(self) -> dict[str, Any]: ...


class ChunkMetrics:
    """Latency, starvation and chunk-boundary jumps, shared by every engine.

    The boundary jump is the largest per-joint change between the last action executed from the old
    chunk and the first action executed from the new one; ``step_change`` tracks ordinary per-tick
    changes so the two can be compared.
    """

    def __init__(self, window: int = 200) -> None:
        self.latency_s = SlidingWindow(window)
        self.boundary_jump = SlidingWindow(window)
        self.step_change = SlidingWindow(window * 10)
        self.stall_s = SlidingWindow(window)
        self.starved_ticks = 0
        self.inferences = 0
        self.errors = 0
        self.last_error: str | None = None
        self.last_jump: float | None = None
        self._last_action: np.ndarray | None = None

    def executed(self, action: np.ndarray, first_of_chunk: bool) -> None:
        if self._last_action is not None:
            change = float(np.max(np.abs(action - self._last_action)))
            if first_of_chunk:
                self.boundary_jump.add(change)
                self.last_jump = change
            else:
                self.step_change.add(change)
        self._last_action = action

    def forget_last_action(self) -> None:
        """After a reset the next action does not continue the previous one."""
        self._last_action = None

    def to_dict(self) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000.0, 2)

        p50, p95 = self.latency_s.percentiles(50, 95)
        (jump_p99,) = self.boundary_jump.percentiles(99)
        (step_p50,) = self.step_change.percentiles(50)
        (stall_max,) = [self.stall_s.max()]
        return {
            "latency_ms": {"p50": ms(p50), "p95": ms(p95)},
            "starved_ticks": self.starved_ticks,
            "inferences": self.inferences,
            "errors": self.errors,
            "last_error": self.last_error,
            "stall_ms_max": ms(stall_max),
            "boundary_jump": {
                "last": None if self.last_jump is None else round(self.last_jump, 4),
                "p99": None if jump_p99 is None else round(jump_p99, 4),
                "max": None if self.boundary_jump.max() is None else round(self.boundary_jump.max() or 0.0, 4),
            },
            "step_change_p50": None if step_p50 is None else round(step_p50, 4),
        }
