"""Highlight: keep the last seconds in a ring buffer; `mark` keeps them and records live, `save` ends.

The ring holds only one continuous stretch of autonomous motion: it is emptied when the policy stops
driving, so a marked episode never splices across a pause.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import numpy as np

from ..config import HighlightStrategyConfig
from ..features import IMAGE_PREFIX
from ..recording import FrameRing
from ..protocol.commands import Command, CommandOutcome, CommandResult
from ..protocol.phases import Phase
from .base import Strategy
from .context import TickContext
from .recording import Recording
from .sentry import outcome_extra
from .steps import recorded_action

__all__ = ["HighlightStrategy"]


class HighlightStrategy(Strategy):
    name = "highlight"

    def __init__(self, config: HighlightStrategyConfig, recording: Recording, fps: float) -> None:
        super().__init__()
        self.config = config
        self.recording = recording
        keys = tuple(IMAGE_PREFIX + name for name in recording.layout.camera_names)
        self.ring = FrameRing(config.ring_buffer_seconds, fps, int(config.ring_buffer_max_memory_mb * 2**20),
                              jpeg_quality=config.ring_jpeg_quality if config.compress_ring else None,
                              image_keys=keys)
        self.live = False
        recording.max_episode_s = config.ring_buffer_seconds + 60.0  # history plus a minute live, for the disk check
        self.actions = {"mark": self._mark, "save": self._save, "discard": self._discard, "upload": self._upload}

    def after_motion(self, ctx: TickContext, observation: dict[str, Any], action: np.ndarray | None) -> None:
        if ctx.phase is Phase.AUTONOMOUS and ctx.policy_tick:
            sent = recorded_action(ctx, action)
            if sent is None:
                return
            frame = self.recording.frame(observation, sent)
            if self.live:
                if not self.recording.add(frame) and not self.recording.open:
                    self.live = False  # the recording could not go on; the fault says why
            else:
                self.ring.append(frame)
        elif ctx.phase is not Phase.AUTONOMOUS:
            if self.live:  # keep what was marked; the pause ends its continuous stretch
                self.recording.end_after_pause(ctx.paused_by)
                self.live = False
            if len(self.ring):
                self.ring.clear()

    def action_available(self, ctx: TickContext, name: str) -> bool:
        if name == "mark":
            return not self.live and ctx.phase is Phase.AUTONOMOUS
        if name in ("save", "discard"):
            return self.live
        return self.recording.uploader is not None

    def _mark(self, ctx: TickContext, command: Command) -> CommandResult:
        if self.live:
            return self.reject(ctx, "already recording a highlight: save or discard it first")
        if ctx.phase is not Phase.AUTONOMOUS:
            return self.reject(ctx, f"mark while the policy runs (the session is {ctx.phase.value})")
        prefix = self.ring.drain()
        index = self.recording.start(prefix)
        if index is None:
            return self.reject(ctx, "recording cannot start now; the notice says why")
        self.live = True
        return CommandResult(True, ctx.phase, f"episode {index} started with {len(prefix)} frames of history")

    def _save(self, ctx: TickContext, command: Command) -> CommandResult | Future[CommandResult]:
        extra = outcome_extra(command)
        if isinstance(extra, str):
            return CommandResult.refused(ctx.phase, extra, CommandOutcome.BAD_ARGS)
        if not self.live:
            return self.reject(ctx, "nothing marked: mark first (the ring keeps the last seconds)")
        self.live = False
        return self.recording.save_command(ctx.phase, extra)

    def _discard(self, ctx: TickContext, command: Command) -> CommandResult:
        if not self.live:
            return self.reject(ctx, "nothing marked to discard")
        self.recording.discard()
        self.live = False
        return CommandResult(True, ctx.phase, "highlight discarded")

    def _upload(self, ctx: TickContext, command: Command) -> CommandResult:
        reason = self.recording.upload()
        return self.reject(ctx, reason) if reason else CommandResult(True, ctx.phase, "upload started")

    def close_episode(self, ctx: TickContext) -> None:
        if self.live:
            self.recording.end_after_pause(None)
            self.live = False

    def finish(self, ctx: TickContext) -> None:
        self.recording.close(save_current=self.live)
        self.ring.close()

    def status(self) -> dict[str, Any]:
        return self.recording.status({
            "live": self.live,
            "ring": {
                "seconds": round(self.ring.seconds, 2),
                "max_seconds": self.config.ring_buffer_seconds,
                "bytes": self.ring.bytes_used,
                "max_bytes": int(self.config.ring_buffer_max_memory_mb * 2**20),
                "fill": round(self.ring.fill, 3),
                "compressed": self.config.compress_ring,
            },
        })
