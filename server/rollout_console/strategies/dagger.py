"""DAgger: the policy runs; the operator pauses, takes over with the leader arm, corrects, hands back.

Phases: autonomous -> paused -> correcting -> paused -> autonomous (one tick, one transition table).
What is recorded is data, not a second loop (``RECORDS``):

    corrections  each correction is one episode (intervention=True), ended by handback or save
    continuous   autonomous (False) and correction (True) frames, rotated by size, never mid-correction
    attempt      one episode per attempt (autonomous segments and corrections), ended by save

Nothing is recorded while paused. On pause an actuated leader is aligned to the follower; on takeover
a follower far from the leader is brought to it smoothly in bounded time (strategies/handover.py).
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import Any

import numpy as np

from ..config import DaggerStrategyConfig
from ..protocol.commands import Command, CommandOutcome, CommandResult
from ..protocol.phases import Phase
from . import steps
from .base import COMMON_TRANSITIONS, Strategy
from .context import TickContext
from .handover import Handover, plan_handover
from .recording import Recording, estimate_episode_seconds
from .sentry import outcome_extra
from .steps import recorded_action

__all__ = ["DAGGER_TRANSITIONS", "RECORDS", "DaggerStrategy"]

P = Phase

DAGGER_TRANSITIONS: dict[tuple[Phase, str], Phase] = {
    **COMMON_TRANSITIONS,
    (P.PAUSED, "takeover"): P.CORRECTING,
    (P.CORRECTING, "handback"): P.PAUSED,
    (P.CORRECTING, "pause"): P.PAUSED,  # pausing a correction hands back (a lapsed lease must stop the human too)
}

RECORDS: dict[str, frozenset[Phase]] = {
    "corrections": frozenset({P.CORRECTING}),
    "continuous": frozenset({P.AUTONOMOUS, P.CORRECTING}),
    "attempt": frozenset({P.AUTONOMOUS, P.CORRECTING}),
}
"""Which phases each record mode records."""


class DaggerStrategy(Strategy):
    name = "dagger"
    transitions = DAGGER_TRANSITIONS

    def __init__(self, config: DaggerStrategyConfig, recording: Recording, fps: float) -> None:
        super().__init__()
        self.config = config
        self.recording = recording
        self.fps = fps
        self.mode = config.record
        self.episode_s = config.episode_time_s or estimate_episode_seconds(
            dict(recording.layout.camera_shapes), fps, config.target_video_file_size_mb
        )
        recording.max_episode_s = self.episode_s if self.mode == "continuous" else None
        if self.mode == "continuous" and config.episode_time_s is None:
            recording.rotate_by_size(config.target_video_file_size_mb)
        self.handover: Handover | None = None
        self.correction_started: float | None = None
        self.corrections = 0
        self.episodes_submitted = 0
        self.stop_when_idle = False
        self.actions = {"save": self._save, "discard": self._discard, "upload": self._upload}

    # ------------------------------------------------------------ transitions

    def handle(self, ctx: TickContext, command: Command) -> CommandResult | Future[CommandResult]:
        if ctx.phase is P.CORRECTING and command.name == "takeover":
            return CommandResult(True, ctx.phase, "already correcting", CommandOutcome.ALREADY)
        return super().handle(ctx, command)

    def veto(self, ctx: TickContext, command: Command, target: Phase) -> str | None:
        if target is P.CORRECTING and ctx.teleop is None:
            return "takeover needs a leader arm (--teleop.type)"
        return None

    def enter(self, ctx: TickContext, target: Phase, command: Command | None) -> None:
        leaving_correction = ctx.phase is P.CORRECTING and target is not P.CORRECTING
        if leaving_correction:
            self._end_correction(ctx, save=True)
        super().enter(ctx, target, command)
        if target is P.PAUSED and ctx.phase is P.AUTONOMOUS:
            self._align_leader(ctx)
        if target is P.CORRECTING:
            self._begin_correction(ctx)

    def _align_leader(self, ctx: TickContext) -> None:
        teleop = ctx.teleop
        if teleop is None or not getattr(teleop, "can_be_driven", False) or ctx.observation is None:
            return
        if getattr(ctx.config.teleop, "align_on_pause", True):
            teleop.align_to({name: ctx.observation[name] for name in ctx.layout.action_names})

    def _begin_correction(self, ctx: TickContext) -> None:
        follower = steps.current_position(ctx)
        leader = ctx.layout.action_vector(ctx.teleop.get_action())
        self.handover = plan_handover(follower, leader, ctx.now, ctx.config.teleop)
        self.correction_started = ctx.now
        if ctx.teleop_driver is not None:
            ctx.teleop_driver.reset()
        if self.mode == "corrections":
            self.recording.start()
        ctx.events.publish("correction_started", handover_s=None if self.handover is None
                           else round(self.handover.duration_s, 3),
                           distance=round(float(np.max(np.abs(leader - follower))), 3))

    def _end_correction(self, ctx: TickContext, save: bool, extra: dict[str, Any] | None = None) -> Future[Any] | None:
        self.handover = None
        ctx.extra.pop("handover_status", None)
        elapsed = ctx.now - (self.correction_started or ctx.now)
        self.correction_started = None
        self.corrections += 1
        ctx.events.publish("correction_ended", elapsed_s=round(elapsed, 3), saved=save)
        if self.mode != "corrections" or not self.recording.open:
            return None
        if not save or self.recording.frames == 0:
            self.recording.discard()
            return None
        if ctx.paused_by is not None:  # an automatic pause ended the correction: too short is discarded
            future = self.recording.end_after_pause(ctx.paused_by)
            if future is not None:
                self._count_episode()
            return future
        return self._save_episode(ctx, extra)

    def _save_episode(self, ctx: TickContext, extra: dict[str, Any] | None = None) -> Future[Any] | None:
        future = self.recording.save(extra)
        if future is not None:
            self._count_episode()
        return future

    def _count_episode(self) -> None:
        self.episodes_submitted += 1
        if self.episodes_submitted >= self.config.num_episodes:
            self.stop_when_idle = True

    # ------------------------------------------------------------------- tick

    def tick(self, ctx: TickContext) -> None:
        if self.stop_when_idle and ctx.phase in (P.AUTONOMOUS, P.PAUSED):
            self.stop_when_idle = False
            ctx.events.publish("notice", level="info",
                               message=f"{self.episodes_submitted} episodes recorded (--strategy.num_episodes)")
            self.request_stop(ctx, cause="num_episodes reached")
        super().tick(ctx)

    def motion(self, ctx: TickContext, observation: dict[str, Any]) -> np.ndarray | None:
        if ctx.phase is not P.CORRECTING:
            return super().motion(ctx, observation)
        if ctx.teleop_driver is not None:
            ctx.teleop_driver.drive(observation)
        leader = ctx.layout.action_vector(ctx.teleop.get_action())
        command = leader
        if self.handover is not None:
            command, progress = self.handover.command(ctx.now, leader)
            ctx.extra["handover_status"] = {"handover": {"active": progress < 1.0, "progress": round(progress, 3),
                                                         "duration_s": round(self.handover.duration_s, 3)}}
            if progress >= 1.0:
                self.handover = None
                ctx.events.publish("handover_done")
        return steps.send(ctx, command)

    def after_motion(self, ctx: TickContext, observation: dict[str, Any], action: np.ndarray | None) -> None:
        if ctx.phase not in RECORDS[self.mode] or not ctx.policy_tick:
            return
        sent = recorded_action(ctx, action)
        if sent is None:
            return
        rec = self.recording
        rec.add(rec.frame(observation, sent, intervention=ctx.phase is P.CORRECTING))
        rotate = self.mode == "continuous" and ctx.phase is P.AUTONOMOUS  # never cut a correction
        if rotate and rec.frames >= self.episode_s * self.fps:
            self._save_episode(ctx)

    # --------------------------------------------------------------- actions

    def action_available(self, ctx: TickContext, name: str) -> bool:
        if name == "upload":
            return self.recording.uploader is not None and ctx.phase is not P.CORRECTING
        if self.mode == "corrections":
            return ctx.phase is P.CORRECTING
        return self.recording.open and self.recording.frames > 0

    def _save(self, ctx: TickContext, command: Command) -> CommandResult | Future[CommandResult]:
        extra = outcome_extra(command)
        if isinstance(extra, str):
            return CommandResult.refused(ctx.phase, extra, CommandOutcome.BAD_ARGS)
        if self.mode == "corrections":
            if ctx.phase is not P.CORRECTING:
                return self.reject(ctx, "each correction is one episode: save while correcting (or hand back)")
            saved = self._end_correction(ctx, save=True, extra=extra)
            super().enter(ctx, P.PAUSED, command)
            ctx.set_phase(P.PAUSED, cause="save", source=command.source)
            if saved is None:
                return CommandResult(True, ctx.phase, "the correction had no frames; nothing saved")
            return Recording.acknowledge(saved, ctx.phase)
        if not self.recording.open or self.recording.frames == 0:
            return self.reject(ctx, "nothing recorded in the current episode yet")
        saved = self._save_episode(ctx, extra)
        if saved is None:
            return self.reject(ctx, "nothing to save: no frame was recorded in this episode")
        return Recording.acknowledge(saved, ctx.phase)

    def _discard(self, ctx: TickContext, command: Command) -> CommandResult:
        if self.mode == "corrections":
            if ctx.phase is not P.CORRECTING:
                return self.reject(ctx, "no correction in progress to discard")
            self._end_correction(ctx, save=False)
            super().enter(ctx, P.PAUSED, command)
            ctx.set_phase(P.PAUSED, cause="discard", source=command.source)
            return CommandResult(True, ctx.phase, "correction discarded")
        if not self.recording.open:
            return self.reject(ctx, "no episode in progress to discard")
        self.recording.discard()
        return CommandResult(True, ctx.phase, "episode discarded")

    def _upload(self, ctx: TickContext, command: Command) -> CommandResult:
        if ctx.phase is P.CORRECTING:
            return self.reject(ctx, "upload after the correction: hand back first")
        reason = self.recording.upload()
        return self.reject(ctx, reason) if reason else CommandResult(True, ctx.phase, "upload started")

    def finish(self, ctx: TickContext) -> None:
        self.recording.close(save_current=True)

    def status(self) -> dict[str, Any]:
        elapsed = None
        if self.correction_started is not None:
            elapsed = round(time.perf_counter() - self.correction_started, 2)
        return self.recording.status({
            "mode": self.mode,
            "episodes_recorded": self.episodes_submitted,
            "num_episodes": self.config.num_episodes,
            "corrections": self.corrections,
            "correction_elapsed_s": elapsed,
            "handover_active": self.handover is not None,
        })

