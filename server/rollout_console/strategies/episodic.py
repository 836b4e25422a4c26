"""Episodic: N episodes of a fixed length, each after a reset, each ending with an outcome.

One episode goes ``resetting`` (the arm returns home, the scene is put back: the sim re-seeds it, a
person resets a real one during the countdown) -> ``autonomous`` (the assigned policy runs until success
or ``episode_time_s``) -> ``awaiting_outcome`` (only when the operator gives or confirms outcomes) ->
the next reset, and after the last episode ``stopping``. The results (per policy success rate with its
interval, the comparison) are kept in an EvaluationBook and written next to the dataset after every
outcome. Recording is optional: with a dataset each episode is saved with its outcome, policy and time to
success once the outcome is known.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from ..config import RolloutConsoleConfig
from ..config.episodic import EpisodicStrategyConfig
from ..evaluation.assignment import balanced_assignment
from ..evaluation.detector import SuccessDetector
from ..evaluation.results import HIDDEN_POLICY, EpisodeRecord, EvaluationBook
from ..evaluation.writer import ResultsWriter
from ..hardware.protocols import SceneResetter
from ..inference.switch import EngineSwitch
from ..protocol.commands import Command, CommandOutcome, CommandResult
from ..protocol.phases import Phase
from . import steps
from .base import STRATEGIES, Strategy, StrategyParts
from .context import TickContext
from .recording import Recording
from .sentry import outcome_extra

__all__ = ["EPISODIC_TRANSITIONS", "EpisodicStrategy"]

log = logging.getLogger(__name__)

P = Phase
_ALIVE = (P.STARTING, P.RESETTING, P.AUTONOMOUS, P.PAUSED, P.AWAITING_OUTCOME, P.STOPPING, P.ERROR)

EPISODIC_TRANSITIONS: dict[tuple[Phase, str], Phase] = {
    (P.AUTONOMOUS, "pause"): P.PAUSED,
    (P.RESETTING, "pause"): P.PAUSED,  # holds the reset countdown
    (P.PAUSED, "resume"): P.AUTONOMOUS,  # back to the episode, the reset or the outcome: see resume_target
    (P.ESTOPPED, "reset"): P.PAUSED,  # clearing an E-STOP only holds; resume is a second step
    (P.RESETTING, "end_reset"): P.AUTONOMOUS,  # the next episode starts (once the arm is home)
    **{(phase, "stop"): P.STOPPING for phase in (P.STARTING, P.RESETTING, P.AUTONOMOUS, P.PAUSED,
                                                 P.AWAITING_OUTCOME, P.ESTOPPED, P.ERROR)},
    **{(phase, "estop"): P.ESTOPPED for phase in _ALIVE},
}
"""(phase, command) -> next phase; ``save``, ``discard``, ``end_episode``, ``exclude`` are actions."""

_STOPPED_OUTCOME = "unknown"


@STRATEGIES.register("episodic")
class EpisodicStrategy(Strategy):
    name = "episodic"
    transitions = EPISODIC_TRANSITIONS

    def __init__(self, config: EpisodicStrategyConfig, recording: Recording | None, policies: list[str],
                 detector: SuccessDetector | None, output_dir: Path, switch: EngineSwitch | None = None) -> None:
        super().__init__()
        self.config = config
        self.recording = recording
        self.detector = detector
        self.switch = switch  # the EngineSwitch that holds every policy (None: the engine runs one policy)
        self.outcome_from = config.outcome_from if config.outcome_from != "auto" else (
            "detector" if detector is not None else "operator")
        if self.outcome_from in ("detector", "both") and detector is None:
            raise ValueError("no success detector")  # the builder refuses this first, naming the flag
        self.assignment = balanced_assignment(policies, config.num_episodes, config.seed)
        self.book = EvaluationBook(policies, config.num_episodes, blind=config.blind)
        self.writer = ResultsWriter(output_dir)
        if recording is not None:
            recording.max_episode_s = config.episode_time_s
        self.index = 0  # the episode being run or prepared (0-based)
        self.reruns = 0
        self.record: EpisodeRecord | None = None
        self.episode_open = False  # the policy's part of the episode is in progress (running or paused)
        self.active_s = 0.0  # seconds the policy has driven in this episode (pauses not counted)
        self.success_at: float | None = None
        self.ended_by: str | None = None
        self.reset_stage: str | None = None  # homing | scene, while a reset is in progress
        self.reset_deadline = 0.0
        self.reset_left: float | None = None  # countdown frozen by a pause
        self.reset_skip = False
        self.done = False
        self._last_now: float | None = None
        self.detector_failed = False  # reported once per episode, then ignored
        self.actions = {"save": self._save, "discard": self._discard, "end_episode": self._end_episode_command,
                        "exclude": self._exclude}
        if recording is not None:
            self.actions["upload"] = self._upload

    @classmethod
    def build(cls, config: RolloutConsoleConfig, recording: Recording | None, parts: StrategyParts) -> Strategy:
        from .episodic_setup import make_episodic  # the detector, the results directory, the policy switch

        return make_episodic(config, recording, engine=parts.engine, robot=parts.robot)

    @property
    def evaluation(self) -> EvaluationBook:
        return self.book

    # ------------------------------------------------------------------ commands

    def handle(self, ctx: TickContext, command: Command) -> CommandResult | Future[CommandResult]:
        if command.name == "resume" and ctx.phase is P.PAUSED:
            target = self.resume_target()
            if target is not P.AUTONOMOUS:
                self.transition(ctx, target, cause="resume", command=command)
                return CommandResult(True, ctx.phase)
        if command.name == "end_reset" and ctx.phase is P.RESETTING and self.reset_stage == "homing":
            self.reset_skip = True
            return CommandResult(True, ctx.phase, "the episode starts as soon as the arm is home")
        return super().handle(ctx, command)

    def resume_target(self) -> Phase:
        """Where a resume goes: the open episode, the outcome it awaits, or the reset."""
        if self.episode_open:
            return P.AUTONOMOUS
        if self.record is not None:
            return P.AWAITING_OUTCOME
        return P.RESETTING

    def enter(self, ctx: TickContext, target: Phase, command: Command | None) -> None:
        if target is P.AUTONOMOUS and not self.episode_open:
            self._start_episode(ctx)
        record = self.record if self.episode_open else None
        interrupted = ctx.phase is not P.ESTOPPED  # clearing an E-STOP (reset -> paused) is no new intervention
        if target in (P.PAUSED, P.ESTOPPED) and record is not None and command is not None and interrupted:
            self.book.update(record, interventions=record.interventions + 1)
        if target in (P.RESETTING, P.AWAITING_OUTCOME):
            ctx.engine.pause()
            steps.capture_hold_target(ctx)
            if target is P.RESETTING and self.reset_left is not None:
                self.reset_deadline = ctx.now + self.reset_left  # resumed: the countdown goes on
                self.reset_left = None
            if target is P.RESETTING and self.reset_stage == "homing":
                ctx.stopping_from = None  # homing starts again from where the arm is now
        if target in (P.PAUSED, P.ESTOPPED) and ctx.phase is P.RESETTING and self.reset_stage == "scene":
            self.reset_left = max(0.0, self.reset_deadline - ctx.now)
        super().enter(ctx, target, command)

    def why_not(self, ctx: TickContext, command: Command) -> str:
        if command.name == "end_reset":
            return f"end_reset ends a reset; the session is {ctx.phase.value}"
        return super().why_not(ctx, command)

    def action_available(self, ctx: TickContext, name: str) -> bool:
        if name == "save":
            return self.episode_open or ctx.phase is P.AWAITING_OUTCOME
        if name in ("discard", "end_episode"):
            return self.episode_open or (name == "discard" and ctx.phase is P.AWAITING_OUTCOME)
        if name == "exclude":
            return self.book.finished > 0
        return self.recording is not None and self.recording.uploader is not None

    def _save(self, ctx: TickContext, command: Command) -> CommandResult:
        extra = outcome_extra(command)
        if isinstance(extra, str):
            return CommandResult.refused(ctx.phase, extra, CommandOutcome.BAD_ARGS)
        outcome = extra.get("outcome")
        if self.episode_open:
            self._end_episode(ctx, "ended by the operator", operator_outcome=outcome)
            return CommandResult(True, ctx.phase, "episode ended" + (f": {outcome}" if outcome else ""))
        if ctx.phase is not P.AWAITING_OUTCOME or self.record is None:
            return self.reject(ctx, f"no episode awaits an outcome (the session is {ctx.phase.value})")
        if outcome is None:
            return CommandResult.refused(ctx.phase, "give the outcome: success, failure or unknown",
                                         CommandOutcome.BAD_ARGS)
        episode = self.record.episode
        self._conclude(ctx, outcome, self._operator_source(outcome))
        return CommandResult(True, ctx.phase, f"episode {episode}: {outcome}")

    def _end_episode_command(self, ctx: TickContext, command: Command) -> CommandResult:
        if not self.episode_open:
            return self.reject(ctx, f"no episode is running (the session is {ctx.phase.value})")
        self._end_episode(ctx, "ended by the operator")
        return CommandResult(True, ctx.phase, "episode ended")

    def _discard(self, ctx: TickContext, command: Command) -> CommandResult:
        """Re-record: drop the episode in progress (never a saved one) and run it again after a reset."""
        if self.record is None or not (self.episode_open or ctx.phase is P.AWAITING_OUTCOME):
            return self.reject(ctx, "no episode in progress to re-record (saved episodes are kept: exclude them)")
        episode = self.record.episode
        if self.recording is not None and self.recording.open:
            self.recording.discard()
        self.book.drop(self.record)
        self.record, self.episode_open = None, False
        self.reruns += 1
        ctx.events.publish("evaluation_rerecord", episode=episode, reruns=self.reruns, source=command.source)
        self._begin_reset(ctx, cause="re-record", command=command)
        return CommandResult(True, ctx.phase, f"episode {episode} discarded; it runs again after the reset")

    def _exclude(self, ctx: TickContext, command: Command) -> CommandResult:
        episode, reason = command.args.get("episode"), command.args.get("reason")
        if not isinstance(episode, int) or isinstance(episode, bool) or not isinstance(reason, str) or not reason.strip():
            return CommandResult.refused(ctx.phase, "exclude takes {'episode': <number>, 'reason': <text>}",
                                         CommandOutcome.BAD_ARGS)
        excluded = self.book.exclude(episode, reason.strip())
        if isinstance(excluded, str):
            return self.reject(ctx, excluded)
        ctx.events.publish("evaluation_excluded", episode=episode, reason=reason.strip(), source=command.source)
        self._write_results()
        return CommandResult(True, ctx.phase, f"episode {episode} excluded from the statistics: {reason.strip()}")

    def _upload(self, ctx: TickContext, command: Command) -> CommandResult:
        assert self.recording is not None
        reason = self.recording.upload()
        return self.reject(ctx, reason) if reason else CommandResult(True, ctx.phase, "upload started")

    def _operator_source(self, outcome: str) -> str:
        if self.record is None or self.record.detector is None or self.outcome_from == "operator":
            return "operator"
        detected = "success" if self.record.detector else "failure"
        return "operator_confirmed" if outcome == detected else "operator_overrode"

    # --------------------------------------------------------------------- ticks

    def inference_failure(self, error: Exception) -> str:
        if self.config.blind and self.switch is not None and not self.switch.revealed:  # it may name the policy
            return ("paused: inference failed (details are in the server log; hidden in blind mode until this "
                    "episode's outcome is given)")
        return super().inference_failure(error)

    def begin(self, ctx: TickContext) -> None:
        """An evaluation starts with a reset (home, then the scene), not with the policy."""
        self._begin_reset(ctx, cause="started")

    def motion(self, ctx: TickContext, observation: dict[str, Any]) -> np.ndarray | None:
        if ctx.phase is P.RESETTING:
            steps.count_policy_tick(ctx)
            self._reset_step(ctx)
            return None
        if ctx.phase is P.AWAITING_OUTCOME:
            steps.count_policy_tick(ctx)
            steps.hold(ctx)
            return None
        return super().motion(ctx, observation)

    def _reset_step(self, ctx: TickContext) -> None:
        if self.reset_stage == "homing":
            home = ctx.initial_position
            already_home = (ctx.stopping_from is None and home is not None
                            and float(np.max(np.abs(steps.current_position(ctx) - home))) <= steps.SETTLE_TOLERANCE)
            if not already_home and not steps.return_home(ctx):
                return
            self.reset_stage = "scene"
            self.reset_deadline = ctx.now + self.config.reset_time_s
            steps.capture_hold_target(ctx)
            seed = self.assignment.scene_seeds[self.index]
            robot = ctx.robot.inner
            scene = robot if isinstance(robot, SceneResetter) else None  # an extension the sim has
            if scene is not None:
                scene.reset_scene(seed)
            ctx.events.publish("evaluation_reset", episode=self.index + 1, of=self.config.num_episodes,
                               stage="scene", reset_time_s=self.config.reset_time_s,
                               scene_seed=seed if scene is not None else None)
        steps.hold(ctx)
        if self.reset_skip or ctx.now >= self.reset_deadline:
            self.transition(ctx, P.AUTONOMOUS, cause="reset done" if not self.reset_skip else "reset ended by the operator")

    def after_motion(self, ctx: TickContext, observation: dict[str, Any], action: np.ndarray | None) -> None:
        dt = 0.0 if self._last_now is None else max(0.0, ctx.now - self._last_now)
        self._last_now = ctx.now
        record = self.record
        if not self.episode_open or record is None:
            return
        if ctx.phase is P.AUTONOMOUS:
            self.active_s += dt
        if self.detector is not None and self.success_at is None and ctx.phase is not P.STOPPING:
            try:
                detected = self.detector(observation)
            except Exception as exc:  # a broken detector must not stop the robot; it is reported once
                detected = None
                if not self.detector_failed:
                    self.detector_failed = True
                    ctx.events.publish("notice", level="warning", message=f"success detector failed: {exc}")
            if detected:
                self.success_at = self.active_s
                ctx.events.publish("evaluation_success_detected", episode=record.episode,
                                   time_to_success_s=round(self.active_s, 3))
        self._record_frame(ctx, observation, action)
        if ctx.phase is P.AUTONOMOUS:
            if self.success_at is not None and self.config.end_on_success:
                self._end_episode(ctx, "success detected")
            elif self.active_s >= self.config.episode_time_s:
                self._end_episode(ctx, "time limit")

    def _record_frame(self, ctx: TickContext, observation: dict[str, Any], action: np.ndarray | None) -> None:
        rec = self.recording
        if rec is None or not ctx.policy_tick or ctx.phase is P.STOPPING:
            return
        if ctx.phase is not P.AUTONOMOUS and not rec.open:
            return  # only the policy starts an episode; a pause inside one keeps recording real time
        sent = steps.recorded_action(ctx, action)
        if sent is not None:
            rec.add(rec.frame(observation, sent))

    # ------------------------------------------------------------------ episodes

    def _begin_reset(self, ctx: TickContext, cause: str, command: Command | None = None) -> None:
        self.reset_stage, self.reset_skip, self.reset_left = "homing", False, None
        ctx.stopping_from = None
        self.transition(ctx, P.RESETTING, cause=cause, command=command)
        ctx.events.publish("evaluation_reset", episode=self.index + 1, of=self.config.num_episodes, stage="homing")

    def _start_episode(self, ctx: TickContext) -> None:
        policy = self.assignment.policies[self.index]
        if self.switch is not None:
            self.switch.select(policy)
            self.switch.revealed = not self.config.blind
        self.record = self.book.begin(self.index + 1, policy, self.assignment.scene_seeds[self.index], self.reruns)
        self.episode_open, self.active_s, self.success_at, self.ended_by = True, 0.0, None, None
        self.reset_stage = None
        self.detector_failed = False
        ctx.events.publish("evaluation_episode_started", episode=self.index + 1, of=self.config.num_episodes,
                           policy=HIDDEN_POLICY if self.config.blind else policy, reruns=self.reruns)

    def _end_episode(self, ctx: TickContext, cause: str, operator_outcome: str | None = None) -> None:
        """The policy's part is over: label it now (detector or operator) or wait for the operator."""
        record = self.record
        assert record is not None
        self.episode_open, self.ended_by = False, cause
        detected = None if self.detector is None else self.success_at is not None
        self.book.update(record, detector=detected, duration_s=round(self.active_s, 3),
                         time_to_success_s=None if self.success_at is None else round(self.success_at, 3))
        ctx.events.publish("evaluation_episode_ended", episode=record.episode, cause=cause, detector=detected,
                           duration_s=round(self.active_s, 3),
                           time_to_success_s=None if self.success_at is None else round(self.success_at, 3))
        if operator_outcome is not None:
            self._conclude(ctx, operator_outcome, self._operator_source(operator_outcome))
        elif self.outcome_from == "detector":
            self._conclude(ctx, "success" if detected else "failure", "detector")
        else:
            self.transition(ctx, P.AWAITING_OUTCOME, cause=cause)

    def _conclude(self, ctx: TickContext, outcome: str, source: str) -> None:
        """Give the episode its outcome, save it, reveal its policy, then reset or finish."""
        record = self.record
        assert record is not None
        if outcome != "success":
            self.book.update(record, time_to_success_s=None)
        self.book.update(record, outcome=outcome, outcome_source=source, ended_at=time.time())
        self._save_recording(record)
        if self.switch is not None:
            self.switch.revealed = True
        ctx.events.publish("evaluation_outcome", episode=record.episode, outcome=outcome, source=source,
                           policy=record.policy, time_to_success_s=record.time_to_success_s,
                           duration_s=record.duration_s)
        self.record, self.reruns = None, 0
        self.index += 1
        self._write_results()
        if source == "stopped":
            return
        if self.index >= self.config.num_episodes:
            self.done = True
            summary = self.book.report()["comparison"].get("summary")
            ctx.events.publish("evaluation_finished", episodes=self.index, summary=summary,
                               results=str(self.writer.json_path))
            self.request_stop(ctx, cause="all episodes done")
        else:
            self._begin_reset(ctx, cause=f"episode {record.episode}: {outcome}")

    def _save_recording(self, record: EpisodeRecord) -> None:
        rec = self.recording
        if rec is None or not rec.open:
            return
        extra = {"outcome": record.outcome, "policy": record.policy, "time_to_success_s": record.time_to_success_s}
        saved = rec.save(extra)
        if saved is not None:
            def keep_index(done: Future[Any], record: EpisodeRecord = record) -> None:  # saver thread
                if done.exception() is None:
                    self.book.update(record, dataset_episode=done.result().index)
                    self._write_results()

            saved.add_done_callback(keep_index)

    def _write_results(self) -> None:
        self.writer.submit(self.book.report())

    # ------------------------------------------------------------------ stopping

    def close_episode(self, ctx: TickContext) -> None:
        """At stop: an episode in progress (or awaiting its outcome) is kept with outcome unknown."""
        if self.record is not None:
            if self.episode_open:
                self.episode_open = False
                self.book.update(self.record, duration_s=round(self.active_s, 3),
                                 detector=None if self.detector is None else self.success_at is not None,
                                 time_to_success_s=None if self.success_at is None else round(self.success_at, 3))
            self._conclude(ctx, _STOPPED_OUTCOME, "stopped")
        super().close_episode(ctx)

    def finish(self, ctx: TickContext) -> None:
        if self.record is not None:
            self._conclude(ctx, _STOPPED_OUTCOME, "stopped")
        if self.recording is not None:
            self.recording.close(save_current=True)
        self._write_results()
        self.writer.close()

    # -------------------------------------------------------------------- status

    def status(self) -> dict[str, Any]:
        now = time.perf_counter()
        phase_stage = "done" if self.done else ("episode" if self.episode_open else
                                                 "awaiting_outcome" if self.record is not None else
                                                 self.reset_stage or "starting")
        if self.reset_left is not None:
            reset_remaining = self.reset_left
        elif self.reset_stage == "scene":
            reset_remaining = max(0.0, self.reset_deadline - now)
        else:
            reset_remaining = None
        record = self.record
        policy = None
        if record is not None:
            policy = HIDDEN_POLICY if self.config.blind else record.policy
        evaluation = {
            "episode": min(self.index + 1, self.config.num_episodes),
            "of": self.config.num_episodes,
            "finished": self.book.finished,
            "stage": phase_stage,
            "reset_remaining_s": None if reset_remaining is None else round(reset_remaining, 2),
            "reset_time_s": self.config.reset_time_s,
            "episode_elapsed_s": round(self.active_s, 2) if record is not None else None,
            "episode_time_s": self.config.episode_time_s,
            "policy": policy,
            "blind": self.config.blind,
            "policies": list(self.book.policies),
            "outcome_from": self.outcome_from,
            "detector": self.detector is not None,
            "success_detected": record is not None and self.success_at is not None,
            "proposal": (None if record is None or record.detector is None or self.episode_open
                         else ("success" if record.detector else "failure")),
            "ended_by": self.ended_by if record is not None and not self.episode_open else None,
            "reruns": self.reruns,
            "results_path": str(self.writer.json_path),
            "results_error": self.writer.last_error,
        }
        status: dict[str, Any] = {"evaluation": evaluation}
        if self.recording is not None:
            status.update(self.recording.status({"episode_limit_s": self.config.episode_time_s}))
        return status

