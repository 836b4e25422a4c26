"""Strategy: the phase table and command handling every strategy shares; BaseStrategy (policy only).

A strategy is one ``tick`` built from shared steps plus a transition table. It never owns a loop:
the ControlLoop calls ``tick`` and the Session calls ``handle`` for each command, both on the loop
thread, so no locking is needed inside a strategy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..config import RolloutConsoleConfig
from ..hardware.thread_safe import ThreadSafeRobot
from ..inference.base import InferenceEngine
from ..protocol.commands import Command, CommandOutcome, CommandResult
from ..protocol.phases import MOVING, Phase
from ..registry import Registry
from . import steps
from .context import TickContext
from .recording import Recording

if TYPE_CHECKING:
    from ..evaluation.results import EvaluationBook

__all__ = ["COMMON_TRANSITIONS", "ESTOP_CLEARED_NOTICE", "ESTOP_CLEAR_FIRST", "ESTOP_NOTICE", "STRATEGIES", "BaseStrategy", "Strategy", "StrategyParts"]

log = logging.getLogger(__name__)

P = Phase
_ALIVE = (P.STARTING, P.AUTONOMOUS, P.PAUSED, P.CORRECTING, P.STOPPING, P.ERROR)

COMMON_TRANSITIONS: dict[tuple[Phase, str], Phase] = {
    (P.STARTING, "pause"): P.PAUSED,
    (P.AUTONOMOUS, "pause"): P.PAUSED,
    (P.PAUSED, "resume"): P.AUTONOMOUS,
    (P.ESTOPPED, "reset"): P.PAUSED,  # clearing an E-STOP only holds; resuming is a second, deliberate step
    **{(phase, "stop"): P.STOPPING for phase in (P.STARTING, P.AUTONOMOUS, P.PAUSED, P.CORRECTING)},
    (P.ESTOPPED, "stop"): P.STOPPING,  # finishes saves in place: after an estop the arm is not moved home
    (P.ERROR, "stop"): P.STOPPING,
    **{(phase, "estop"): P.ESTOPPED for phase in _ALIVE},
}
"""(phase, command) -> next phase, for the commands every strategy understands."""

ALREADY: dict[tuple[Phase, str], str] = {
    (P.PAUSED, "pause"): "already paused",
    (P.AUTONOMOUS, "resume"): "already running",
    (P.STOPPING, "stop"): "already stopping",
    (P.STOPPED, "stop"): "already stopped",
    (P.ESTOPPED, "estop"): "already estopped",
    (P.STOPPED, "estop"): "already stopped; the robot is not moving",
}
"""Repeating a command whose effect already holds is accepted and changes nothing (idempotent-safe)."""

ESTOP_CLEAR_FIRST = "clear the E-STOP first (reset)"
"""Why ``resume`` is refused while estopped: clearing the E-STOP (``reset`` -> paused) is its own step."""

ESTOP_NOTICE = "E-STOP: the robot holds where it is. Clear the E-STOP (reset) first, then resume when it is safe."
ESTOP_CLEARED_NOTICE = "E-STOP cleared: the robot holds where it is; resume when ready."
"""``status.notice`` while estopped and after the clear, so every page and script says what comes next."""

AUTOMATIC_PAUSE_SOURCES: dict[str, str] = {
    "lease": "paused: the client in control lost its connection or gave control up (lease lapsed); resume "
             "when the robot is safe to move",
}
"""Sources whose ``pause`` is automatic (not an operator's decision) and the reason shown for it."""

ActionHandler = Callable[[TickContext, Command], "CommandResult | Future[CommandResult]"]


@dataclass(frozen=True)
class StrategyParts:
    """The session's parts a strategy may be built from besides the config (the episodic one uses them)."""

    engine: InferenceEngine
    robot: ThreadSafeRobot


class Strategy:
    """Shared machinery: command validation, phase side effects, the motion step per phase.

    What the rest of the console needs to know about a strategy is a class attribute, never its name.
    """

    name: ClassVar[str] = "strategy"
    needs_leader: ClassVar[bool] = False
    """Corrections come from a leader arm: it must cover every robot joint (checked when building)."""
    records_intervention: ClassVar[bool] = False
    """Recorded frames carry an ``intervention`` column (human-driven or not)."""
    transitions: Mapping[tuple[Phase, str], Phase] = COMMON_TRANSITIONS
    recording: Recording | None = None
    """The recording steps, for strategies that record (faults, durable stop and short episodes use it)."""

    def __init__(self) -> None:
        self.actions: dict[str, ActionHandler] = {}

    @classmethod
    def build(cls, config: RolloutConsoleConfig, recording: Recording | None, parts: StrategyParts) -> Strategy:
        """The strategy for ``config`` (registered in ``STRATEGIES`` under ``--strategy.type``)."""
        raise NotImplementedError

    @property
    def evaluation(self) -> EvaluationBook | None:
        """The EvaluationBook of strategies that evaluate policies (episodic): outcomes and statistics."""
        return None

    @property
    def commands(self) -> frozenset[str]:
        return frozenset({name for _, name in self.transitions} | set(self.actions))

    # ------------------------------------------------------------ commands

    def handle(self, ctx: TickContext, command: Command) -> CommandResult | Future[CommandResult]:
        if command.name not in self.commands:
            return self.reject(ctx, f"{command.name} is not available with the {self.name} strategy")
        if command.name in self.actions:
            return self.actions[command.name](ctx, command)
        automatic = AUTOMATIC_PAUSE_SOURCES.get(command.source) if command.name == "pause" else None
        if automatic and ctx.phase in MOVING:
            # only server-side inputs use these sources, so the notice they carry cannot come from a client
            reason = str(command.args.get("notice") or automatic)
            self.pause_on_its_own(ctx, reason)
            return CommandResult(True, ctx.phase, reason)
        already = ALREADY.get((ctx.phase, command.name))
        if already:
            return CommandResult(True, ctx.phase, already, CommandOutcome.ALREADY)
        target = self.transitions.get((ctx.phase, command.name))
        if target is None:
            return self.reject(ctx, self.why_not(ctx, command))
        veto = self.veto(ctx, command, target)
        if veto:
            return self.reject(ctx, veto)
        self.transition(ctx, target, cause=command.name, command=command)
        return CommandResult(True, ctx.phase)

    @staticmethod
    def reject(ctx: TickContext, reason: str) -> CommandResult:
        return CommandResult.refused(ctx.phase, reason)

    def why_not(self, ctx: TickContext, command: Command) -> str:
        if command.name == "resume" and ctx.phase is P.ESTOPPED:
            return ESTOP_CLEAR_FIRST
        valid = sorted({phase.value for phase, name in self.transitions if name == command.name})
        return f"cannot {command.name} while {ctx.phase.value} (valid while: {', '.join(valid)})"

    def veto(self, ctx: TickContext, command: Command, target: Phase) -> str | None:
        """A strategy may refuse an otherwise valid transition; return the reason."""
        return None

    def transition(self, ctx: TickContext, target: Phase, cause: str, command: Command | None = None,
                   **data: Any) -> None:
        """Go to ``target``: its side effects (``enter``), then the phase change and its event.

        The one way a strategy changes phase; ``source`` is the command's, else ``session``.
        """
        self.enter(ctx, target, command)
        ctx.set_phase(target, cause=cause, source=command.source if command is not None else "session", **data)

    def enter(self, ctx: TickContext, target: Phase, command: Command | None) -> None:
        """Side effects of entering ``target`` (called before the phase changes; only ``transition`` calls it)."""
        if ctx.notice in (ESTOP_NOTICE, ESTOP_CLEARED_NOTICE) and target not in (P.PAUSED, P.ESTOPPED):
            ctx.notice = ctx.notice_level = None  # the E-STOP is behind: nothing left to clear or resume
        if target in (P.PAUSED, P.ESTOPPED, P.STOPPING):
            ctx.engine.pause()
        if target is P.PAUSED:
            steps.capture_hold_target(ctx)
            if ctx.phase is P.ESTOPPED:
                ctx.notice, ctx.notice_level = ESTOP_CLEARED_NOTICE, "warning"
        elif target is P.CORRECTING and command is not None:
            ctx.notice = ctx.notice_level = ctx.paused_by = None  # the operator took over: the reason is dealt with
        elif target is P.AUTONOMOUS and ctx.phase is P.STARTING:
            ctx.engine.resume()  # the first start: nothing planned yet can be stale
        elif target is P.AUTONOMOUS:
            ctx.notice = ctx.notice_level = ctx.paused_by = None
            ctx.hold_target = None
            ctx.engine.reset()  # a chunk planned before the pause is stale
            ctx.interpolator.reset(steps.current_position(ctx) if ctx.observation is not None else None)
            ctx.engine.resume()
        elif target is P.ESTOPPED:
            steps.estop_hold(ctx)
            ctx.notice, ctx.notice_level = ESTOP_NOTICE, "error"
        elif target is P.STOPPING:
            ctx.stopping_from = None
            ctx.stop_in_place = ctx.phase in (P.ESTOPPED, P.ERROR)

    def pause_on_its_own(self, ctx: TickContext, reason: str, level: str = "warning") -> None:
        """The session pauses itself (stale input, lease lapse, recording or inference error).

        The reason stays in ``status.notice`` until the operator resumes, so a client that connects later
        still sees why, and the episode it ends is judged by ``--dataset.min_episode_s``.
        """
        ctx.notice, ctx.notice_level, ctx.paused_by = reason, level, reason
        self.transition(ctx, P.PAUSED, cause=reason, automatic=True)
        ctx.events.publish("notice", level=level, message=reason)

    def react_to_recording_faults(self, ctx: TickContext) -> None:
        """Make every recording failure loud, and pause the robot on it unless --dataset.on_error=continue."""
        recording = self.recording
        if recording is None:
            return
        for fault in recording.take_faults():
            message = fault.message
            ctx.events.publish("recording_failed", level="error", cause=fault.cause, fix=fault.fix, message=message)
            pause = ctx.config.dataset is not None and ctx.config.dataset.on_error == "pause"
            if pause and ctx.phase in MOVING:
                self.pause_on_its_own(ctx, f"paused: {message}", level="error")
            elif ctx.phase not in (P.STOPPING, P.STOPPED):
                ctx.notice, ctx.notice_level = message, "error"
                ctx.events.publish("notice", level="error", message=message)

    def close_episode(self, ctx: TickContext) -> None:
        """At stop: keep the episode being recorded (recording strategies; called until stopped)."""
        if self.recording is not None and self.recording.open:
            self.recording.end_after_pause(None)

    def settle_stop(self, ctx: TickContext) -> None:
        """The arm is home (or stays put): ``stopped`` only once every save is durable or has failed."""
        self.close_episode(ctx)
        pending = self.recording.pending_saves if self.recording is not None else 0
        if pending:
            if ctx.announced_pending_saves != pending:
                ctx.announced_pending_saves = pending
                ctx.events.publish("notice", level="info", message=f"stopping: waiting for {pending} episode "
                                   f"save{'s' if pending != 1 else ''} to become durable")
            return
        self.transition(ctx, P.STOPPED, cause="stopped")

    def request_stop(self, ctx: TickContext, cause: str) -> None:
        target = self.transitions.get((ctx.phase, "stop"))
        if target is not None:
            self.transition(ctx, target, cause=cause)

    # ---------------------------------------------------------------- ticks

    def start(self, ctx: TickContext) -> None:
        """Called once on the loop thread before the first tick."""

    def finish(self, ctx: TickContext) -> None:
        """Called once on the loop thread after the last tick (flush what the strategy holds)."""

    def tick(self, ctx: TickContext) -> None:
        if ctx.phase in (P.STOPPED, P.ERROR):
            return
        if ctx.phase is P.STOPPING and ctx.stop_in_place:
            self.settle_stop(ctx)
            return
        observation = steps.observe(ctx)
        if ctx.initial_position is None:
            ctx.initial_position = steps.current_position(ctx)
        if ctx.phase is P.STARTING:
            ctx.interpolator.reset(steps.current_position(ctx))
            self.begin(ctx)
        duration = ctx.config.duration
        if duration > 0 and ctx.elapsed_s >= duration and ctx.phase not in (P.STOPPING, P.STOPPED):
            self.request_stop(ctx, cause="duration elapsed")
        action = self.motion(ctx, observation)
        self.after_motion(ctx, observation, action)
        self.react_to_recording_faults(ctx)

    def begin(self, ctx: TickContext) -> None:
        """Leave ``starting`` on the first tick: the policy drives (a strategy that starts otherwise overrides)."""
        self.transition(ctx, P.AUTONOMOUS, cause="started")

    def motion(self, ctx: TickContext, observation: dict[str, Any]) -> np.ndarray | None:
        """Move the robot as the phase says; returns the action when a policy or human drove it."""
        phase = ctx.phase
        if phase is not P.AUTONOMOUS:
            steps.count_policy_tick(ctx)
        if phase is P.AUTONOMOUS:
            stale = steps.stale_cameras(ctx)
            if stale:
                self.pause_on_its_own(ctx, f"paused: stale camera input {', '.join(stale)}")
                return None
            try:
                return steps.drive_policy(ctx, observation)
            except Exception as exc:
                log.exception("inference failed")
                self.pause_on_its_own(ctx, self.inference_failure(exc))
                return None
        if phase is P.PAUSED:
            steps.hold(ctx)
        elif phase is P.STOPPING:
            if steps.return_home(ctx):
                self.settle_stop(ctx)
        return None

    def inference_failure(self, error: Exception) -> str:
        """The notice for a failed inference (a blind evaluation hides what could name the policy)."""
        return f"paused: inference failed: {error}"

    def after_motion(self, ctx: TickContext, observation: dict[str, Any], action: np.ndarray | None) -> None:
        """Hook for recording strategies: runs after the robot was commanded this tick."""

    def available(self, ctx: TickContext) -> list[str]:
        """Commands that would do something in the current phase (the page enables exactly these).

        Idempotent repeats (``pause`` while paused) are accepted too but are not listed here.
        """
        names = {name for (phase, name) in self.transitions if phase is ctx.phase}
        names |= {name for name in self.actions if self.action_available(ctx, name)}
        return sorted(names)

    def action_available(self, ctx: TickContext, name: str) -> bool:
        """Whether an action command (save, upload, ...) can run now."""
        return True

    def status(self) -> dict[str, Any]:
        """Strategy-specific status fields merged into ``GET /api/v1/status``."""
        return {}


STRATEGIES: Registry[type[Strategy]] = Registry("strategy type", "--strategy.type")
"""Strategy classes keyed by ``--strategy.type``; ``strategies/__init__`` imports every module that registers."""


@STRATEGIES.register("base")
class BaseStrategy(Strategy):
    """Policy only: the robot runs autonomously; nothing is recorded."""

    name = "base"

    @classmethod
    def build(cls, config: RolloutConsoleConfig, recording: Recording | None, parts: StrategyParts) -> Strategy:
        return cls()
