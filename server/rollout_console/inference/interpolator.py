"""ActionInterpolator: smooth commands at ``multiplier`` x the policy rate.

The control loop ticks at fps x N and asks ``next_command()`` every tick. Whenever
``needs_action()`` is true (every N-th command tick, starting with the first) the loop first gets
the next policy action (one policy tick: that is the row it records) and passes it to ``add()``.
The interpolator then emits N linear sub-steps from the previous commanded action to the new one,
the last sub-step being the action itself, so the policy cadence is exactly every N command ticks.

- First action (after construction or ``reset()`` without a start pose): held for N sub-steps.
  ``reset(start)`` seeds the ramp origin with the measured pose instead, so the first action is
  approached smoothly.
- Starvation (``add(None)``): the last commanded action is held for N sub-steps; the next real
  action ramps from there.
- N = 1 passes actions through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["ActionInterpolator"]


class ActionInterpolator:
    """Linear sub-steps between consecutive policy actions (used only on the control thread)."""

    def __init__(self, multiplier: int = 1) -> None:
        if int(multiplier) != multiplier or multiplier < 1:
            raise ValueError(f"interpolation multiplier must be an integer >= 1 (got {multiplier})")
        self.multiplier = int(multiplier)
        self._previous: np.ndarray | None = None
        self._steps: list[np.ndarray] = []
        self.policy_ticks = 0
        self.command_ticks = 0
        self.held_ticks = 0

    @property
    def enabled(self) -> bool:
        return self.multiplier > 1

    def control_period(self, fps: float) -> float:
        """Seconds between command ticks at policy rate ``fps``."""
        return 1.0 / (fps * self.multiplier)

    def needs_action(self) -> bool:
        """True when the next command tick is a policy tick (call ``add`` before ``next_command``)."""
        return not self._steps

    def add(self, action: np.ndarray | None) -> None:
        """Queue the N sub-steps toward ``action`` (None = starved policy tick: hold)."""
        if self._steps:
            raise RuntimeError("add() called before the previous action's sub-steps were used")
        self.policy_ticks += 1
        n = self.multiplier
        if action is None:
            if self._previous is None:
                self._steps = [None] * n  # type: ignore[list-item]  # nothing commanded yet
            else:
                self._steps = [self._previous.copy() for _ in range(n)]
            self.held_ticks += n
            return
        target = np.asarray(action, dtype=np.float32)
        origin = self._previous if self._previous is not None else target
        self._steps = [origin + (target - origin) * (i / n) for i in range(1, n + 1)]
        self._previous = target.copy()

    def next_command(self) -> np.ndarray | None:
        """The command for this tick (None only before any action: nothing to command yet)."""
        if not self._steps:
            raise RuntimeError("no sub-step queued: call add() when needs_action() is true")
        self.command_ticks += 1
        step = self._steps.pop(0)
        return None if step is None else np.asarray(step, dtype=np.float32)

    def step(self, get_action: Callable[[], np.ndarray | None]) -> tuple[np.ndarray | None, bool]:
        """One command tick: fetch a policy action if due; returns (command, was_policy_tick)."""
        policy_tick = self.needs_action()
        if policy_tick:
            self.add(get_action())
        return self.next_command(), policy_tick

    def reset(self, start: np.ndarray | None = None) -> None:
        """Forget the plan (pause, new episode); ``start`` is the pose the next ramp begins from."""
        self._steps = []
        self._previous = None if start is None else np.asarray(start, dtype=np.float32).copy()
