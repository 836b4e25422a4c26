"""ConsoleHost: what lives as long as the server process: the hardware, the event bus, the sessions.

A session (strategy + policy + engine + dataset) is built from a validated config, runs, and ends; the
host keeps the robot, the cameras and the leader arm connected between sessions (previews keep working),
numbers every event on one bus (``seq`` counts per process, across sessions), records each session in
the history file, and answers for the server while no session runs (phase ``idle``: only ``estop`` is a
command then, accepted and changing nothing; the robot holds its last commanded position).

Server-side inputs (the foot pedal) are attached here, not to the web app: they submit to whatever
session is current, and run whether or not a web server is around.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from ..config import RolloutConsoleConfig
from ..config.session import data_dir, session_part
from ..errors import ConsoleError
from ..protocol.commands import COMMAND_NAMES, CommandOutcome, CommandResult
from ..protocol.events import Event, EventBus
from ..protocol.phases import Phase
from .builder import Hardware, build_hardware, build_session
from .history import HISTORY_FILE, SessionHistory
from .session import Session

__all__ = ["ConsoleHost", "HostInput", "SessionBusy", "SessionStartFailed"]

log = logging.getLogger(__name__)

IDLE_DETAIL = "no session is running; start one"
_IDLE_READ_S = 0.2  # how often an idle status reads the robot's joints


class HostInput(Protocol):
    """A server-side input the host starts and stops (the foot pedal)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def status(self) -> dict[str, Any]: ...


class SessionStartFailed(ConsoleError):
    """The session was built and recorded but failed as it started (hardware, engine): ``start_failed``."""


class SessionBusy(ConsoleError):
    """A session is running (or starting), or the server is shutting down: no new session now."""


class ConsoleHost:
    """Owns the hardware, the one EventBus, ``server_id``, the session history and the current session."""

    def __init__(self, config: RolloutConsoleConfig, *, session: Session | None = None, hub_api: Any = None,
                 history: SessionHistory | None = None) -> None:
        self.config = config
        """The command line's config: its machine part is fixed; its session part is the default of every session."""
        self.server_id = uuid.uuid4().hex[:12]
        self.hub_api = hub_api
        if session is not None:  # adopt a session built elsewhere (the CLI, tests): its devices become ours
            self.hardware = Hardware(session.ctx.robot, session.ctx.teleop)
            self.events: EventBus = session.events
            session.owns_hardware = False
        else:
            self.hardware = build_hardware(config)
            self.events = EventBus()
        self.history = history or SessionHistory(data_dir(config) / HISTORY_FILE)
        self._session = session  # the current session, or the last one
        self._pending_first = session  # adopted, not started yet: start() starts it
        self._inputs: dict[str, HostInput] = {}
        self._idle_callbacks: list[Callable[[Session], None]] = []
        self._lock = threading.Lock()
        self._start_done = threading.Condition(self._lock)
        self._starting = False
        self._closing = False
        self._refusing: str | None = None  # why new sessions are refused (the process is about to exit)
        self._settled = True  # False from a session's start until its end is recorded and idle announced
        self._episodes: dict[str, int] = {}
        self._unsubscribe = self.events.subscribe(self._count_saves)
        self._idle_robot: tuple[float, dict[str, Any]] = (float("-inf"), {})

    # ------------------------------------------------------------------ state

    @property
    def session(self) -> Session | None:
        """The running session (None while idle)."""
        session = self._session
        if session is None or session.started_at is None:
            return None
        # a finished session stays current (phase stopped) until its end is recorded: only then is the server
        # idle and may a new session start, so nobody sees idle and gets "still stopping"
        return session if not session.finished or not self._settled else None

    @property
    def last_session(self) -> Session | None:
        """The running session, else the one that ran last (None before the first)."""
        return self._session

    @property
    def phase(self) -> Phase:
        session = self.session
        return session.phase if session is not None else Phase.IDLE

    @property
    def idle(self) -> bool:
        return self.session is None

    @property
    def closing(self) -> bool:
        """True once the server is shutting down: no new session, and pages need not follow it to idle."""
        return self._closing

    @property
    def robot(self) -> Any:
        return self.hardware.robot

    @property
    def cameras(self) -> Any:
        return self.hardware.robot.cameras

    def latest_frame(self, name: str) -> Any:
        """The newest frame of camera ``name`` (None: no such camera or no frame yet); works while idle."""
        source = self.cameras.get(name)
        return None if source is None else source.latest()

    def on_idle(self, callback: Callable[[Session], None]) -> None:
        """Run ``callback(ended_session)`` each time a session has ended and the server is idle."""
        self._idle_callbacks.append(callback)

    # -------------------------------------------------------------- lifecycle

    def add_input(self, name: str, device: HostInput) -> None:
        """Attach a server-side input; started with the host (or now, if the host runs already)."""
        self._inputs[name] = device

    def inputs_status(self) -> dict[str, Any]:
        """Each input's state, by name (the pedal is ``disabled`` when none is attached)."""
        return {"pedal": {"state": "disabled"}, **{name: device.status() for name, device in self._inputs.items()}}

    def start(self) -> None:
        """Connect the hardware, start the inputs and the adopted first session (if any)."""
        first, self._pending_first = self._pending_first, None
        if first is not None:
            self._begin(first)
        else:
            self._connect()
        for device in self._inputs.values():
            device.start()

    def _connect(self) -> None:
        if not self.hardware.robot.is_connected:
            self.hardware.robot.connect()
        teleop = self.hardware.teleop
        if teleop is not None and not teleop.is_connected:
            teleop.connect()

    def close(self, timeout: float = 15.0) -> None:
        """Stop the running session durably (source ``shutdown``), the inputs, then release the hardware."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            # a start in progress finishes first (bounded): its session is then the one stopped below
            self._start_done.wait_for(lambda: not self._starting, timeout)
        session = self._session
        if session is not None:
            session.shutdown(timeout)
        for device in self._inputs.values():
            try:
                device.stop()
            except Exception:
                log.exception("stopping an input failed")
        self._unsubscribe()
        try:
            teleop = self.hardware.teleop
            if teleop is not None and teleop.is_connected:
                teleop.disconnect()
        finally:
            if self.hardware.robot.is_connected:
                self.hardware.robot.disconnect()

    # --------------------------------------------------------------- sessions

    def start_session(self, config: RolloutConsoleConfig) -> Session:
        """Build and start a session from a full, validated config (``config_for_session`` makes one).

        Raises SessionBusy while one runs (or stops, or the server is exiting), ConfigError/RecordingError when
        it cannot be built (nothing changed), SessionStartFailed when it fails as it starts (recorded as
        ``start_failed``).
        """
        with self._lock:
            if self._closing:
                raise SessionBusy("the server is shutting down")
            if self._refusing is not None:
                raise SessionBusy(self._refusing)
            if self._starting:
                raise SessionBusy("a session is starting")
            last = self._session
            if last is not None and last.finished and not self._settled:
                raise SessionBusy(f"session {last.id} is still stopping; try again in a moment")
            running = self.session or self._pending_first
            if running is not None:
                raise SessionBusy(f"session {running.id} is running; stop it first")
            self._starting = True
        try:
            session = build_session(config, hub_api=self.hub_api, hardware=self.hardware, events=self.events)
            self._begin(session)
            return session
        finally:
            with self._lock:
                self._starting = False
                self._start_done.notify_all()

    def refuse_new_sessions(self, reason: str) -> None:
        """From now on ``start_session`` answers SessionBusy(reason) (the process is about to exit)."""
        with self._lock:
            self._refusing = reason

    def _begin(self, session: Session) -> None:
        recording = session.recording
        dataset = None if recording is None else {"repo_id": recording.recorder.repo_id,
                                                  "root": str(recording.recorder.root)}
        self._session = session
        self._episodes[session.id] = 0
        record = {"id": session.id, "strategy": session.strategy.name, "config": session_part(session.config),
                  "started_at": time.time(), "ended_at": None, "end_cause": None, "episodes_saved": 0,
                  "dataset": dataset, "server_id": self.server_id}
        self.history.add(record)
        self._settled = False
        session.on_stopped(lambda: self._ended(session))
        try:
            session.start()
        except Exception as exc:
            self.history.update(session.id, ended_at=time.time(), end_cause="start_failed")
            self._settled = True
            raise SessionStartFailed(str(exc)) from exc

    def _ended(self, session: Session) -> None:
        """From the session's loop thread, once it has fully stopped: record it, then announce idle."""
        saved = self._episodes.get(session.id, 0)
        self.history.update(session.id, ended_at=session.ended_at or time.time(), end_cause=session.end_cause,
                            episodes_saved=saved)
        for callback in self._idle_callbacks:  # before idle shows: an exiting server refuses new sessions first
            try:
                callback(session)
            except Exception:
                log.exception("idle callback failed")
        self._settled = True
        self.events.publish("server_idle", last_session_id=session.id, cause=session.end_cause,
                            server_id=self.server_id)

    def _count_saves(self, event: Event) -> None:
        if event.kind == "episode_saved" and self._session is not None:
            self._episodes[self._session.id] = self._episodes.get(self._session.id, 0) + 1

    def records(self) -> list[dict[str, Any]]:
        """Every session in the history, oldest first; the running one is marked ``current``."""
        current = self.session
        out = []
        for record in self.history.records():
            if current is not None and record["id"] == current.id:
                record["current"] = True
                record["episodes_saved"] = self._episodes.get(current.id, 0)
            else:
                record["current"] = False
            out.append(record)
        return out

    def record(self, session_id: str) -> dict[str, Any] | None:
        return next((r for r in self.records() if r["id"] == session_id), None)

    # --------------------------------------------------------------- commands

    def idle_result(self, name: str) -> CommandResult:
        """What a command gets while no session runs: estop is accepted (nothing moves), others 409."""
        if name not in COMMAND_NAMES:
            return CommandResult.refused(Phase.IDLE, f"unknown command {name!r}", CommandOutcome.UNKNOWN)
        if name == "estop":
            return CommandResult(True, Phase.IDLE, "no session is running; nothing moves", CommandOutcome.ALREADY)
        return CommandResult.refused(Phase.IDLE, IDLE_DETAIL, CommandOutcome.INVALID_NOW)

    def submit(self, name: str, args: dict[str, Any] | None = None, source: str = "api",
               timeout: float | None = None) -> CommandResult:
        session = self.session
        if session is None:
            return self._idle_command(name, source)
        return session.submit(name, args, source=source, timeout=timeout)

    async def submit_async(self, name: str, args: dict[str, Any] | None = None,
                           source: str = "api") -> CommandResult:
        session = self.session
        if session is None:
            return self._idle_command(name, source)
        return await session.submit_async(name, args, source=source)

    def submit_nowait(self, name: str, args: dict[str, Any] | None = None,
                      source: str = "api") -> concurrent.futures.Future[CommandResult]:
        session = self.session
        if session is not None:
            return session.submit_nowait(name, args, source)
        future: concurrent.futures.Future[CommandResult] = concurrent.futures.Future()
        future.set_result(self._idle_command(name, source))
        return future

    def _idle_command(self, name: str, source: str) -> CommandResult:
        result = self.idle_result(name)
        if name in COMMAND_NAMES:
            self.events.publish("command", name=name, accepted=result.accepted, detail=result.detail,
                                source=source, phase=Phase.IDLE.value, latency_ms=0.0)
        return result

    # ----------------------------------------------------------------- status

    def status(self) -> dict[str, Any]:
        """The running session's status, or the idle server's; both carry ``server_id``."""
        session = self.session
        if session is not None:
            status = session.status()
            status["server_id"] = self.server_id
            return status
        last = self._session
        return {
            "server_id": self.server_id,
            "session_id": None,
            "strategy": None,
            "phase": Phase.IDLE.value,
            "fps": None,
            "control_hz": None,
            "elapsed_s": None,
            "loop": None,
            "robot": self._idle_robot_status(),
            "cameras": camera_status(self.cameras),
            "policy": None,
            "inference": None,
            "task": None,
            "notice": None,
            "notice_level": None,
            "error": None,
            "commands": [],
            "available_commands": ["estop"],
            "event_seq": self.events.last_seq,
            "server_closing": self.closing,
            "last_session": None if last is None else {"id": last.id, "strategy": last.strategy.name,
                                                       "phase": last.phase.value, "end_cause": last.end_cause,
                                                       "ended_at": last.ended_at},
        }

    def _idle_robot_status(self) -> dict[str, Any]:
        """Name, id and measured joints, read from the robot at most every ``_IDLE_READ_S`` (many clients poll)."""
        robot = self.hardware.robot
        read_at, joints = self._idle_robot
        now = time.monotonic()
        if now - read_at < _IDLE_READ_S:
            return {"name": robot.name, "id": robot.id, "joints": dict(joints)}
        joints = {}
        if robot.is_connected:
            try:
                observation = robot.get_observation()
                joints = {name: round(float(value), 3) for name, value in observation.items()
                          if name.endswith(".pos") and isinstance(value, (int, float))}
            except Exception as exc:  # noqa: BLE001 -- a flaky bus must not break the status of an idle server
                log.debug("idle status: reading the robot failed: %s", exc)
        self._idle_robot = (now, joints)
        return {"name": robot.name, "id": robot.id, "joints": dict(joints)}

    async def wait_idle(self, timeout: float) -> bool:
        """Wait (async) until no session runs; True once idle."""
        deadline = time.monotonic() + timeout
        while self.session is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.session is None


def camera_status(cameras: Any) -> dict[str, dict[str, Any]]:
    """Per camera: delivered fps, newest frame's age, size and read errors (as in a session's status)."""
    out = {}
    for name, source in cameras.items():
        stats = source.stats()
        out[name] = {"fps": round(stats.fps, 2), "age_ms": None if stats.age_ms is None else round(stats.age_ms, 1),
                     "width": stats.width, "height": stats.height, "errors": stats.errors}
    return out
