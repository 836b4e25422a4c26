"""Session: the one object the API (and scripts, tests, notebooks) talk to.

Commands go in through ``submit`` and are applied by the control loop at the top of its next tick;
``submit`` returns once that happened (or the command was rejected with a reason). State comes out
as ``status()`` snapshots and numbered events on ``events``. Nothing here blocks the control thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..config import RolloutConsoleConfig
from ..errors import CommandRejected, HardwareError
from ..hardware.protocols import CameraSource, DrivableLeader
from ..protocol.commands import COMMAND_NAMES, Command, CommandOutcome, CommandResult
from ..protocol.events import EventBus
from ..protocol.phases import Phase
from ..strategies.base import Strategy
from ..strategies.context import TickContext
from ..strategies.recording import Recording
from .control_loop import ControlLoop
from .cpu_budget import CpuBudget
from .rate import rate_figures
from .session_facade import SessionFacade
from .timing import TickTiming

__all__ = ["Session"]

log = logging.getLogger(__name__)

_Pending = tuple[Command, concurrent.futures.Future[CommandResult]]
_SHUTDOWN_CAP_S = 600.0
"""The longest a shutdown waits for saves that keep making progress."""


class Session(SessionFacade):
    """Owns the engine, strategy and control loop of one rollout (and the robot, unless a host lends it)."""

    def __init__(self, config: RolloutConsoleConfig, ctx: TickContext, strategy: Strategy, *,
                 owns_hardware: bool = True) -> None:
        self.config = config
        self.id = uuid.uuid4().hex[:12]
        self.owns_hardware = owns_hardware
        """False when a ConsoleHost lends the robot and leader: they stay connected after the session."""
        self.started_at: float | None = None
        """Unix time the loop started (None before start)."""
        self.ended_at: float | None = None
        self.end_cause: str | None = None
        """Why the session ended: stopped, estop, error, duration or shutdown (None while it runs)."""
        self._stop_request: tuple[str, Phase] | None = None  # (source, phase) of the accepted stop
        self.ctx = ctx
        self.strategy = strategy
        self.events: EventBus = ctx.events
        self._commands: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        control_hz = config.fps * config.interpolation_multiplier
        window = max(30, int(config.loop.stats_window_s * control_hz))
        realtime = config.loop.realtime_priority if config.loop.realtime else None
        self.loop = ControlLoop(1.0 / control_hz, self._tick, window_ticks=window, on_exit=self._loop_exited,
                                realtime_priority=realtime)
        self._started = False
        self._finished = threading.Event()
        self._stopped_callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.cpu_budget: CpuBudget | None = None
        """Who gets the cores (set by the builder; runtime/cpu_budget.py)."""

    # ------------------------------------------------------------ lifecycle

    @property
    def robot(self) -> Any:
        return self.ctx.robot

    @property
    def cameras(self) -> Mapping[str, CameraSource]:
        return self.ctx.robot.cameras

    @property
    def phase(self) -> Phase:
        return self.ctx.phase

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def start(self) -> None:
        """Connect the robot and start the control loop (returns immediately after)."""
        with self._lock:
            if self._started:
                raise RuntimeError("session already started")
            self._started = True
        sys.setswitchinterval(self.config.loop.gil_switch_interval_ms / 1000.0)
        try:
            if not self.ctx.robot.is_connected:
                self.ctx.robot.connect()
            if self.ctx.teleop is not None and not self.ctx.teleop.is_connected:
                self.ctx.teleop.connect()
            self.ctx.engine.start()
            self.ctx.started_at = time.perf_counter()
            self.started_at = time.time()
            self.strategy.start(self.ctx)
        except BaseException:
            # never half started: the engine stops, owned devices are released, the session is over
            self.ended_at, self.end_cause = time.time(), "start_failed"
            if self.cpu_budget is not None:
                self.cpu_budget.close()
            try:
                self.strategy.finish(self.ctx)  # closes a dataset opened by the build
            except Exception:
                log.exception("strategy finish after a failed start failed")
            try:
                self._release()
            except Exception:
                log.exception("releasing after a failed start failed")
            self._finished.set()
            raise
        self.events.publish("session_started", strategy=self.strategy.name, fps=self.config.fps, session_id=self.id)
        if self.cpu_budget is not None:
            self.cpu_budget.start()
        self.loop.start()

    def on_stopped(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` (from the loop thread) once the session has fully stopped."""
        self._stopped_callbacks.append(callback)
        if self._finished.is_set():
            callback()

    def wait_finished(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def shutdown(self, timeout: float = 15.0) -> None:
        """Stop cleanly (returning home when configured, every save durable), then release the hardware.

        ``timeout`` bounds the wait while nothing progresses; pending saves that keep completing extend it
        (up to ``_SHUTDOWN_CAP_S``), so a slow disk is waited for rather than left in staging.
        """
        if not self._started:
            self._release()
            self._finished.set()
            return
        if not self._finished.is_set():
            result = self.submit("stop", source="shutdown", timeout=timeout)
            if not result.accepted and self.ctx.phase not in (Phase.STOPPED, Phase.ESTOPPED):
                self.submit("estop", source="shutdown", timeout=2.0)
                self.submit("stop", source="shutdown", timeout=2.0)
            if not self._wait_stopped(timeout):
                log.error("session did not stop within %.0f s; stopping the loop", timeout)
                self.loop.request_stop()
                self.loop.join(2.0)

    def _wait_stopped(self, idle_timeout: float) -> bool:
        """Wait for the session to finish while it makes progress (saves completing); True once finished."""
        started = last_progress = time.monotonic()
        last = self._save_progress()
        while not self._finished.wait(0.5):
            now = time.monotonic()
            progress = self._save_progress()
            if progress != last:  # saves completing or encoders working through their backlog
                if progress[0] != last[0]:
                    log.info("stopping: %d episode save(s) still pending", progress[0])
                last, last_progress = progress, now
            if now - last_progress > idle_timeout or now - started > _SHUTDOWN_CAP_S:
                return False
        return True

    def _save_progress(self) -> tuple[int, int]:
        """(pending saves, frames still to encode): a shutdown waits as long as either moves."""
        recording = self.recording
        if recording is None:
            return (0, 0)
        status = recording.recorder.status()
        return (int(status["pending_saves"]), int(status["backlog_frames"]))

    def _release(self) -> None:
        try:
            self.ctx.engine.stop()
        finally:
            if self.owns_hardware:
                self.release_hardware()

    def release_hardware(self) -> None:
        """Disconnect the leader and the robot (a ConsoleHost does this once, when the server ends)."""
        try:
            if self.ctx.teleop is not None and self.ctx.teleop.is_connected:
                self.ctx.teleop.disconnect()
        finally:
            if self.ctx.robot.is_connected:
                self.ctx.robot.disconnect()

    # -------------------------------------------------------------- dataset

    @property
    def recording(self) -> Recording | None:
        """The strategy's Recording helper, or None for strategies that record nothing."""
        return self.strategy.recording

    def evaluation(self) -> dict[str, Any] | None:
        """Per-policy success rates, the comparison and the episodes (None: this strategy evaluates nothing)."""
        book = self.strategy.evaluation
        return None if book is None else book.report()

    def dataset_info(self) -> dict[str, Any] | None:
        recording = self.recording
        if recording is None:
            return None
        recorder = recording.recorder
        spec = recorder.spec
        status = recorder.status()
        return {
            "repo_id": recorder.repo_id,
            "root": str(recorder.root),
            "fps": spec.fps,
            "robot_type": spec.robot_type,
            "features": {name: {"dtype": ft["dtype"], "shape": list(ft["shape"]), "names": ft.get("names")}
                         for name, ft in spec.features.items()},
            "video": None if spec.video is None else {"vcodec": spec.video.vcodec, "crf": spec.video.crf},
            "total_episodes": status["total_episodes"],
            "total_frames": status["total_frames"],
            "push_to_hub": recording.uploader is not None,
            "url": f"https://huggingface.co/datasets/{recorder.repo_id}" if recording.uploader is not None else None,
        }

    def episode_review(self, index: int) -> dict[str, Any] | None:
        """One saved episode's rows and video locations (for the page's review); None if not recording."""
        recording = self.recording
        if recording is None:
            return None
        from ..recording.review import read_episode

        return read_episode(recording.recorder.root, index)

    def episodes(self) -> list[dict[str, Any]] | None:
        recording = self.recording
        return None if recording is None else [info.as_dict() for info in recording.recorder.episodes()]

    # --------------------------------------------------------------- leader

    def move_leader(self, *, joints: dict[str, float] | None = None,
                    tip: tuple[float, float, float | None] | None = None, gripper: float | None = None,
                    pixel: tuple[str, float, float] | None = None,
                    source: str = "api") -> dict[str, Any]:
        """Set leader-arm targets (page sliders, drag, scripts); returns the leader's state.

        Raises CommandRejected when there is no drivable leader or the expert drives it.
        """
        teleop = self.ctx.teleop
        if not isinstance(teleop, DrivableLeader):
            raise CommandRejected("this session has no leader arm that can be driven from the console")
        if self.ctx.teleop_driver is not None:
            raise CommandRejected("the scripted expert drives the leader (--teleop.driver=expert)")
        if pixel is not None:
            camera, u, v = pixel
            point = self.table_point(camera, u, v)
            if point is None:
                cameras = ", ".join(self.drag_cameras()) or "none on this robot"
                raise CommandRejected(f"drag targets are not defined on camera {camera!r} (drag cameras: {cameras})")
            x, y = point
        try:
            if pixel is not None:
                teleop.set_tip(x, y, gripper=gripper, moved_by=source, clamp=True)
            elif tip is not None:
                teleop.set_tip(*tip, gripper=gripper, moved_by=source)
            elif joints is not None or gripper is not None:
                teleop.set_targets({**(joints or {}), **({"gripper.pos": gripper} if gripper is not None else {})},
                                   moved_by=source)
        except HardwareError as exc:
            raise CommandRejected(str(exc)) from exc
        return teleop.state()

    def _loop_exited(self, error: BaseException | None) -> None:
        if error is not None:
            self.ctx.error = f"control loop crashed: {error}"
            self.ctx.set_phase(Phase.ERROR, cause=self.ctx.error)
        try:
            self.strategy.finish(self.ctx)
        except Exception:
            log.exception("strategy finish failed")
        try:
            self._release()
        except Exception:
            log.exception("releasing the hardware failed")
        self._drain_commands("the session has stopped")
        if self.cpu_budget is not None:
            self.cpu_budget.close()
        self.ended_at = time.time()
        self.end_cause = self._end_cause(error)
        self.events.publish("session_stopped", phase=self.ctx.phase.value, session_id=self.id,
                            cause=self.end_cause)
        self._finished.set()
        for callback in self._stopped_callbacks:
            try:
                callback()
            except Exception:
                log.exception("stopped callback failed")

    def _end_cause(self, error: BaseException | None) -> str:
        if error is not None or self.ctx.phase is Phase.ERROR:
            return "error"
        if self._stop_request is None:  # the strategy stopped by itself
            return "duration" if self.config.duration > 0 and self.ctx.elapsed_s >= self.config.duration else "stopped"
        source, phase = self._stop_request
        if source == "shutdown":
            return "shutdown"
        return "estop" if phase is Phase.ESTOPPED else "stopped"

    # ------------------------------------------------------------ commands

    def submit(self, name: str, args: dict[str, Any] | None = None, source: str = "api",
               timeout: float | None = None) -> CommandResult:
        """Queue a command and wait until the loop applied or rejected it."""
        future = self.submit_nowait(name, args, source)
        wait = self.config.loop.command_timeout_s if timeout is None else timeout
        try:
            return future.result(wait)
        except concurrent.futures.TimeoutError:
            return self._withdraw(future, name, wait)

    async def submit_async(self, name: str, args: dict[str, Any] | None = None,
                           source: str = "api") -> CommandResult:
        future = self.submit_nowait(name, args, source)
        wait = self.config.loop.command_timeout_s
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), wait)
        except TimeoutError:
            return await asyncio.to_thread(self._withdraw, future, name, wait)

    def submit_nowait(self, name: str, args: dict[str, Any] | None = None,
                      source: str = "api") -> concurrent.futures.Future[CommandResult]:
        future: concurrent.futures.Future[CommandResult] = concurrent.futures.Future()
        if name not in COMMAND_NAMES:
            future.set_result(CommandResult.refused(self.ctx.phase, f"unknown command {name!r}",
                                                    CommandOutcome.UNKNOWN))
            return future
        if self._finished.is_set() or not self._started:
            reason = "the session has stopped" if self._finished.is_set() else "the session has not started"
            future.set_result(CommandResult.refused(self.ctx.phase, reason))
            return future
        self._commands.put((Command(name, dict(args or {}), source), future))
        return future

    def _withdraw(self, future: concurrent.futures.Future[CommandResult], name: str,
                  wait: float) -> CommandResult:
        if future.cancel():  # not applied yet: it never will be
            detail = f"{name} was not applied: the control loop did not respond within {wait:g} s"
            self.events.publish("command", name=name, accepted=False, detail=detail, source="session")
            return CommandResult.refused(self.ctx.phase, detail, CommandOutcome.TIMED_OUT)
        # applied, but its acknowledgement is still pending (a save waiting to be durable)
        try:
            return future.result(self.config.loop.ack_timeout_s)
        except concurrent.futures.TimeoutError:
            return CommandResult(True, self.ctx.phase, f"{name} is still in progress; watch the events for the "
                                 "outcome", CommandOutcome.PENDING)

    def _drain_commands(self, reason: str) -> None:
        while True:
            try:
                _, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                future.set_result(CommandResult.refused(self.ctx.phase, reason))

    def _apply_commands(self) -> None:
        while True:
            try:
                command, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue  # withdrawn by a timed-out submitter
            phase_before = self.ctx.phase
            try:
                outcome = self.strategy.handle(self.ctx, command)
            except Exception as exc:
                log.exception("command %s failed", command.name)
                outcome = CommandResult.refused(self.ctx.phase, f"{command.name} failed: {exc}",
                                                CommandOutcome.FAILED)
            if command.name == "stop" and self._stop_request is None and (
                    isinstance(outcome, concurrent.futures.Future) or outcome.accepted):
                self._stop_request = (command.source, phase_before)
            if isinstance(outcome, concurrent.futures.Future):
                # applied now, acknowledged later (a save is acknowledged once the episode is durable)
                def acknowledge(done: concurrent.futures.Future[CommandResult], c: Command = command,
                                f: concurrent.futures.Future[CommandResult] = future) -> None:
                    self._finish(c, f, self._deferred(c, done))

                outcome.add_done_callback(acknowledge)
            else:
                self._finish(command, future, outcome)

    def _deferred(self, command: Command, done: concurrent.futures.Future[CommandResult]) -> CommandResult:
        try:
            return done.result()
        except Exception as exc:
            return CommandResult.refused(self.ctx.phase, f"{command.name} failed: {exc}", CommandOutcome.FAILED)

    def _finish(self, command: Command, future: concurrent.futures.Future[CommandResult],
                result: CommandResult) -> None:
        latency_ms = round((time.monotonic() - command.created) * 1000.0, 3)
        self.events.publish("command", name=command.name, accepted=result.accepted, detail=result.detail,
                            source=command.source, phase=result.phase.value, latency_ms=latency_ms)
        future.set_result(result)

    # ---------------------------------------------------------------- loop

    def _tick(self, timing: TickTiming) -> bool:
        ctx = self.ctx
        ctx.tick = timing.index
        ctx.now = timing.wake
        self._apply_commands()
        if ctx.phase is not Phase.ERROR:
            try:
                self.strategy.tick(ctx)
            except Exception as exc:
                log.exception("tick failed")
                ctx.error = f"{type(exc).__name__}: {exc}"
                ctx.set_phase(Phase.ERROR, cause=ctx.error)
                self.events.publish("error", message=ctx.error)
        return ctx.phase is not Phase.STOPPED

    # -------------------------------------------------------------- status

    def status(self) -> dict[str, Any]:
        """A JSON-ready snapshot; safe to call from any thread."""
        ctx = self.ctx
        observation = ctx.observation or {}
        joints = {name: round(float(observation[name]), 3) for name in ctx.layout.state_names if name in observation}
        cameras = {}
        for name, source in self.cameras.items():
            stats = source.stats()
            cameras[name] = {
                "fps": round(stats.fps, 2),
                "age_ms": None if stats.age_ms is None else round(stats.age_ms, 1),
                "width": stats.width,
                "height": stats.height,
                "errors": stats.errors,
            }
        inference = ctx.engine.status()
        task = ctx.robot.task_status()
        summary = self.loop.stats.summary()
        measured = self.loop.stats.measured_hz()
        control_hz = self.config.fps * self.config.interpolation_multiplier
        status: dict[str, Any] = {
            "session_id": self.id,
            "strategy": self.strategy.name,
            "phase": ctx.phase.value,
            "fps": self.config.fps,
            "control_hz": control_hz,
            "elapsed_s": round(ctx.elapsed_s, 3),
            "loop": {**summary, **rate_figures(measured, control_hz, ctx.engine.name, self.recording is not None),
                     "realtime": self.loop.realtime.to_dict()},
            "robot": {"name": ctx.robot.name, "id": ctx.robot.id, "joints": joints},
            "cameras": cameras,
            "policy": {"name": ctx.engine.policy_name, "latency_ms": inference["latency_ms"]},
            "inference": inference,
            "task": task,
            "task_instruction": self.config.effective_task or None,
            "notice": ctx.notice,
            "notice_level": ctx.notice_level,
            "error": ctx.error,
            "commands": sorted(self.strategy.commands),
            "available_commands": self.strategy.available(ctx),
            "event_seq": self.events.last_seq,
            "cpu_budget": None if self.cpu_budget is None else self.cpu_budget.status(),
        }
        if isinstance(ctx.teleop, DrivableLeader):
            handover = {} if ctx.handover is None else {"handover": ctx.handover.as_dict()}
            status["teleop"] = {**ctx.teleop.state(), **handover}
        status.update(self.strategy.status())
        return status
