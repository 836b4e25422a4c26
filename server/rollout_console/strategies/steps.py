"""Shared steps every strategy's tick is built from: observe, drive, hold, return home, estop.

Each step does one thing to the robot or the context; strategies only decide which steps run in
which phase and what gets recorded.
"""

from __future__ import annotations

import time

import numpy as np

from ..protocol.phases import Phase
from .context import TickContext

__all__ = [
    "capture_hold_target",
    "drive_policy",
    "estop_hold",
    "hold",
    "observe",
    "return_home",
    "send",
    "stale_cameras",
]


def observe(ctx: TickContext) -> dict:
    """Read the robot; the observation is kept on the context for status and recording."""
    observation = ctx.robot.get_observation()
    ctx.observation = observation
    ctx.observation_at = time.perf_counter()
    return observation


def stale_cameras(ctx: TickContext) -> list[str]:
    """Cameras whose newest frame is older than the configured limit (or that have none)."""
    limit_ms = ctx.config.loop.max_observation_age_ms
    stale = []
    for name, source in ctx.robot.cameras.items():
        frame = source.latest()
        age_ms = None if frame is None else (time.monotonic() - frame.captured_at) * 1000.0
        if age_ms is None or age_ms > limit_ms:
            stale.append(f"{name} ({'no frame' if age_ms is None else f'{age_ms:.0f} ms old'})")
    return stale


def send(ctx: TickContext, action: np.ndarray) -> np.ndarray:
    """Send one action; returns what the robot actually accepted (after its own clipping)."""
    sent = ctx.robot.send_action(ctx.layout.action_dict(action))
    vector = ctx.layout.action_vector(sent)
    ctx.last_sent = vector
    return vector


def current_position(ctx: TickContext) -> np.ndarray:
    """Measured joint positions in action order (the robot's ``.pos`` readings)."""
    assert ctx.observation is not None
    return np.array([ctx.observation[name] for name in ctx.layout.action_names], dtype=np.float32)


def capture_hold_target(ctx: TickContext) -> None:
    """Freeze the arm where it is now (used when pausing)."""
    ctx.hold_target = current_position(ctx) if ctx.observation is not None else ctx.last_sent


def hold(ctx: TickContext) -> None:
    """Keep commanding the held position."""
    if ctx.hold_target is None:
        capture_hold_target(ctx)
    if ctx.hold_target is not None:
        send(ctx, ctx.hold_target)


def drive_policy(ctx: TickContext, observation: dict) -> np.ndarray | None:
    """One autonomous control tick.

    On a policy tick the engine gives this tick's action (None when starved: the robot keeps its last
    goal) and the interpolator plans the sub-steps towards it; every control tick sends the next
    sub-step. Returns the command sent, or None when nothing was sent.
    """
    interpolator = ctx.interpolator
    policy_tick = interpolator.needs_action()
    ctx.extra["policy_tick"] = policy_tick
    if policy_tick:
        frame = ctx.layout.policy_observation(observation, ctx.config.effective_task)
        action = ctx.engine.next_action(frame)
        interpolator.add(action)
        ctx.extra["policy_action"] = action
    command = interpolator.next_command()
    if command is None:
        return None
    return send(ctx, command)


def count_policy_tick(ctx: TickContext) -> None:
    """Outside autonomous motion the policy-rate cadence follows the control tick count."""
    ctx.extra["policy_tick"] = ctx.tick % ctx.interpolator.multiplier == 0


def recorded_action(ctx: TickContext, sent: np.ndarray | None) -> np.ndarray | None:
    """The action a row records: the policy's action of this policy tick (not an interpolated
    sub-step), the command sent when not interpolating, or on a starved tick the goal still held."""
    if ctx.interpolator.enabled and ctx.phase.value == "autonomous":
        action = ctx.extra.get("policy_action")
        return action if action is not None else ctx.last_sent
    return sent if sent is not None else ctx.last_sent


def min_jerk(fraction: float) -> float:
    """Minimum-jerk blend 0..1 (zero velocity and acceleration at both ends)."""
    s = min(max(fraction, 0.0), 1.0)
    return s * s * s * (10.0 - 15.0 * s + 6.0 * s * s)


SETTLE_TOLERANCE = 1.0  # joint units: "arrived" when every joint is this close to home
SETTLE_TIMEOUT_S = 1.5


def return_home(ctx: TickContext) -> bool:
    """Move smoothly (minimum-jerk) from where stopping began to the initial position.

    Returns True once the arm has arrived (every joint within SETTLE_TOLERANCE) or, if it cannot
    get there, after SETTLE_TIMEOUT_S of holding the home goal, so a stop always finishes.
    """
    if ctx.initial_position is None or not ctx.config.return_to_initial_position:
        return True
    if ctx.stopping_from is None:
        ctx.stopping_from = current_position(ctx)
        ctx.stopping_started = ctx.now
    elapsed = ctx.now - ctx.stopping_started
    fraction = elapsed / ctx.config.return_duration_s
    blend = min_jerk(fraction)
    send(ctx, ctx.stopping_from + (ctx.initial_position - ctx.stopping_from) * blend)
    if fraction < 1.0:
        return False
    arrived = bool(np.max(np.abs(current_position(ctx) - ctx.initial_position)) <= SETTLE_TOLERANCE)
    return arrived or elapsed >= ctx.config.return_duration_s + SETTLE_TIMEOUT_S


def estop_hold(ctx: TickContext) -> None:
    """On entering estop: command the measured position once so the arm stops where it is."""
    if ctx.observation is not None:
        send(ctx, current_position(ctx))


def phase_moves_robot(phase: Phase) -> bool:
    return phase in (Phase.AUTONOMOUS, Phase.CORRECTING)
