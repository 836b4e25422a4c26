"""The InferenceEngine protocol and the metrics every engine reports."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..window import SlidingWindow

__all__ = ["ChunkMetrics", "InferenceEngine", "PlotTrace"]


@runtime_checkable
class InferenceEngine(Protocol):
    """Turns observations into one action per policy tick.

    ``next_action`` is called on the control thread once per policy tick and returns the action for
    this tick (float32, ``action_names`` order) or None when no fresh action is available (a starved
    tick: the robot then holds). ``reset`` drops every queued or in-flight action (new episode, resume
    after pause); ``pause``/``resume`` stop and restart background work.
    """

    name: str

    @property
    def policy_name(self) -> str:
        """The name shown for the policy driving now (read-only: a switch may hide it)."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def reset(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def next_action(self, observation: dict[str, Any]) -> np.ndarray | None: ...

    def status(self) -> dict[str, Any]: ...


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


class ChunkMetrics:
    """Latency, starvation and chunk-boundary jumps, shared by every engine.

    The boundary jump is the largest per-joint change between the last action executed (or held)
    before a chunk switch and the first action executed from the new chunk; ``step_change`` tracks
    ordinary per-tick changes inside a chunk so the two can be compared (same units: joint units).

    ``starved_ticks`` counts ticks where the engine had no action although it was running (its queue
    ran dry); ``waiting_ticks`` counts ticks spent waiting for the first chunk after a start, reset or
    resume (the robot is idle then, nothing was interrupted). ``stall_s`` holds how long the control
    thread was blocked by inference (sync engine only; background engines never block it).
    """

    def __init__(self, window: int = 200) -> None:
        self.latency_s = SlidingWindow(window)
        self.boundary_jump = SlidingWindow(window)
        self.step_change = SlidingWindow(window * 10)
        self.stall_s = SlidingWindow(window)
        self.starved_ticks = 0
        self.waiting_ticks = 0
        self.stall_total_s = 0.0
        self.inferences = 0
        self.discarded = 0
        self.errors = 0
        self.last_error: str | None = None
        self.last_jump: float | None = None
        self.cold_start_s: float | None = None
        self.chunks_started = 0
        self._last_action: np.ndarray | None = None

    def executed(self, action: np.ndarray, first_of_chunk: bool) -> None:
        if first_of_chunk:
            self.chunks_started += 1
        if self._last_action is not None:
            change = float(np.max(np.abs(action - self._last_action)))
            if first_of_chunk:
                self.boundary_jump.add(change)
                self.last_jump = change
            else:
                self.step_change.add(change)
        self._last_action = action

    def stalled(self, seconds: float) -> None:
        self.stall_s.add(seconds)
        self.stall_total_s += seconds

    def forget_last_action(self) -> None:
        """After a reset the next action does not continue the previous one."""
        self._last_action = None

    def to_dict(self) -> dict[str, Any]:
        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000.0, 2)

        p50, p95 = self.latency_s.percentiles(50, 95)
        (jump_p99,) = self.boundary_jump.percentiles(99)
        (step_p50,) = self.step_change.percentiles(50)
        return {
            "latency_ms": {"p50": ms(p50), "p95": ms(p95)},
            "cold_start_ms": ms(self.cold_start_s),
            "starved_ticks": self.starved_ticks,
            "waiting_ticks": self.waiting_ticks,
            "inferences": self.inferences,
            "discarded_chunks": self.discarded,
            "errors": self.errors,
            "last_error": self.last_error,
            "stall_ms_max": ms(self.stall_s.max()),
            "stall_ms_total": ms(self.stall_total_s),
            "boundary_jump": {
                "last": _round(self.last_jump),
                "p99": _round(jump_p99),
                "max": _round(self.boundary_jump.max()),
            },
            "step_change_p50": _round(step_p50),
        }


class PlotTrace:
    """Recently executed values and the upcoming plan of one joint, for the page's small plot."""

    def __init__(self, action_names: Sequence[str], joint: str | None = None, history: int = 90,
                 upcoming: int = 50) -> None:
        names = list(action_names)
        if joint is not None and joint not in names:
            raise ValueError(f"unknown plot joint {joint!r} (actions: {', '.join(names)})")
        self.joint = joint if joint is not None else (names[0] if names else "")
        self._index = names.index(self.joint) if names else 0
        self._executed: deque[float] = deque(maxlen=history)
        self._upcoming_rows = upcoming
        self._lock = threading.Lock()

    def executed(self, action: np.ndarray | None) -> None:
        """Record this tick's command; a tick without one repeats the held value (numbers only)."""
        with self._lock:
            if action is not None:
                self._executed.append(round(float(action[self._index]), 2))
            elif self._executed:
                self._executed.append(self._executed[-1])

    def clear(self) -> None:
        with self._lock:
            self._executed.clear()

    def to_dict(self, upcoming: np.ndarray | None) -> dict[str, Any]:
        rows: Iterable[float] = () if upcoming is None else upcoming[: self._upcoming_rows, self._index]
        with self._lock:
            executed = list(self._executed)
        return {"joint": self.joint, "executed": executed, "upcoming": [round(float(v), 2) for v in rows]}
