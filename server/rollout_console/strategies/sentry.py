"""Sentry: record everything the policy does, rotate episodes by size or time, upload in the background.

An episode is cut whenever the policy stops driving (pause, estop, stop), so every episode is one
continuous stretch of real time and ``timestamp = frame_index / fps`` stays true.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import numpy as np

from ..config import SentryStrategyConfig
from ..protocol.commands import Command, CommandOutcome, CommandResult
from ..protocol.phases import Phase
from .base import Strategy
from .context import TickContext
from .recording import Recording, estimate_episode_seconds
from .steps import recorded_action

__all__ = ["SentryStrategy", "outcome_extra"]

OUTCOMES = (None, "success", "failure", "unknown")


def outcome_extra(command: Command) -> dict[str, Any] | str:
    """The episode columns a save carries (the optional outcome), or the reason the args are invalid."""
    unknown = set(command.args) - {"outcome"}
    if unknown:
        return f"save takes only 'outcome' (got {sorted(unknown)})"
    outcome = command.args.get("outcome")
    if outcome not in OUTCOMES:
        return f"outcome must be 'success', 'failure' or 'unknown' (got {outcome!r})"
    return {"outcome": outcome} if outcome else {}


class SentryStrategy(Strategy):
    name = "sentry"

    def __init__(self, config: SentryStrategyConfig, recording: Recording, fps: float) -> None:
        super().__init__()
        self.config = config
        self.recording = recording
        self.fps = fps
        self.episode_s = config.episode_time_s or estimate_episode_seconds(
            dict(recording.layout.camera_shapes), fps, config.target_video_file_size_mb
        )
        recording.max_episode_s = self.episode_s
        if config.episode_time_s is None:
            recording.rotate_by_size(config.target_video_file_size_mb)
        self.actions = {"save": self._save, "upload": self._upload}

    def after_motion(self, ctx: TickContext, observation: dict[str, Any], action: np.ndarray | None) -> None:
        rec = self.recording
        if ctx.phase is Phase.AUTONOMOUS and ctx.policy_tick:
            sent = recorded_action(ctx, action)
            if sent is not None and rec.add(rec.frame(observation, sent)):
                if rec.frames >= self.episode_s * self.fps:
                    rec.save()  # rotation; the next frame opens the next episode
        elif rec.open and ctx.phase is not Phase.AUTONOMOUS:
            rec.end_after_pause(ctx.paused_by)  # the policy stopped driving: close this continuous stretch

    def action_available(self, ctx: TickContext, name: str) -> bool:
        if name == "save":
            return self.recording.open and self.recording.frames > 0
        return self.recording.uploader is not None

    def _save(self, ctx: TickContext, command: Command) -> CommandResult | Future[CommandResult]:
        extra = outcome_extra(command)
        if isinstance(extra, str):
            return CommandResult.refused(ctx.phase, extra, CommandOutcome.BAD_ARGS)
        if not self.recording.open or self.recording.frames == 0:
            return self.reject(ctx, "nothing recorded in the current episode yet")
        return self.recording.save_command(ctx.phase, extra)

    def _upload(self, ctx: TickContext, command: Command) -> CommandResult:
        reason = self.recording.upload()
        return self.reject(ctx, reason) if reason else CommandResult(True, ctx.phase, "upload started")

    def finish(self, ctx: TickContext) -> None:
        self.recording.close(save_current=True)

    def status(self) -> dict[str, Any]:
        return self.recording.status({"episode_limit_s": round(self.episode_s, 1)})
