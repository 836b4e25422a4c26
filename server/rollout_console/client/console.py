"""``Console``: a blocking client for one running console (HTTP for requests, the WebSocket for events).

    from rollout_console.client import Console

    with Console("http://127.0.0.1:8000", name="nightly") as console:
        print(console.status().phase)
        console.pause()
        console.save(outcome="success")

Commands return a :class:`CommandReply` when applied and raise a typed error otherwise (``CommandRejected``,
``LeaseHeld``, ``NotApplied``, ``Unauthorized``). Safe to share between threads (httpx.Client is).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect

from ..protocol.episodes import EpisodePublic, EpisodesPublic
from ..protocol.evaluation import EvaluationPublic
from ..protocol.messages import EventPublic, EventsPublic
from ..protocol.replies import Health
from ..protocol.status import CameraInfo, StatusPublic
from .errors import BadRequest, ConsoleError, LeaseHeld, Unauthorized, Unreachable
from .lease import LeaseKeeper, heartbeat_period
from .sessions import SessionRecord, session_list
from .stream import Backoff, EventCursor
from .wait import PhaseWanted, phase_matcher, timeout_message
from .wire import (
    CommandReply,
    client_headers,
    command_body,
    config_body,
    error_for,
    new_client_id,
    normalize_url,
    raise_for_status,
    reply_of,
    ws_url,
)

__all__ = ["Console", "Control"]


class Control:
    """The operator lease while a ``with console.control(...)`` block runs; heartbeats in a thread."""

    def __init__(self, console: Console, label: str | None, force: bool) -> None:
        self._console = console
        self.label = label
        self.force = force
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.keeper = LeaseKeeper()

    @property
    def lost(self) -> str | None:
        """Why the lease was lost while the block ran (None while it is held)."""
        return self.keeper.lost

    def _acquire(self) -> None:
        body = {"label": self.label, "force": self.force}
        answer = self._console._post("/api/v1/lease/acquire", json={k: v for k, v in body.items() if v})
        period = heartbeat_period(self._console._get_json("/api/v1/lease"))
        self.keeper.acquired(answer)
        self._thread = threading.Thread(target=self._beat, args=(period,), name="rollout-console-lease", daemon=True)
        self._thread.start()

    def _beat(self, period: float) -> None:
        while not self._stop.wait(period):
            try:
                response = self._console._http.post("/api/v1/lease/heartbeat")
            except httpx.HTTPError as exc:
                self.keeper.missed(str(exc))  # the server may be restarting: keep trying until the lease lapses
                continue
            if not self.keeper.answered(response.status_code, _body(response)):
                return

    def _release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.keeper.lost is None:
            with contextlib.suppress(httpx.HTTPError, ConsoleError):
                self._console._post("/api/v1/lease/release")


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class Console:
    """A client of one console. ``token``: the operator (or viewer) token off loopback; ``name``: the client
    id the server shows in events and holds the lease under (default ``script-<random>``)."""

    def __init__(self, url: str, token: str | None = None, name: str | None = None, *,
                 timeout: float = 60.0, transport: httpx.BaseTransport | None = None) -> None:
        self.url = normalize_url(url)
        self.token = token
        self.client_id = new_client_id(name)
        # commands wait for the control loop (a save until it is durable): generous read timeout
        self._http = httpx.Client(base_url=self.url, headers=client_headers(token, self.client_id),
                                  timeout=httpx.Timeout(timeout, connect=10.0), transport=transport)

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.url} did not answer: {exc or type(exc).__name__}") from exc

    def _get_json(self, path: str, **params: Any) -> Any:
        response = self._send("GET", path, params={k: v for k, v in params.items() if v is not None})
        raise_for_status(response)
        return response.json()

    def _post(self, path: str, json: Any = None) -> Any:
        response = self._send("POST", path, json=json)
        raise_for_status(response)
        return response.json()

    # ------------------------------------------------------------------ reading

    def health(self) -> Health:
        return Health.model_validate(self._get_json("/healthz"))

    def status(self) -> StatusPublic:
        """The session snapshot: phase, loop health, joints, cameras, policy, recording, lease, ..."""
        return StatusPublic.model_validate(self._get_json("/api/v1/status"))

    def config(self) -> dict[str, Any]:
        """The effective configuration, every option with its value."""
        return self._get_json("/api/v1/config")

    def cameras(self) -> list[CameraInfo]:
        return [CameraInfo.model_validate(item) for item in self._get_json("/api/v1/cameras")]

    def snapshot(self, camera: str) -> bytes:
        """The camera's latest frame as JPEG bytes."""
        response = self._send("GET", f"/api/v1/cameras/{camera}/snapshot.jpg")
        raise_for_status(response)
        return response.content

    def lease(self) -> dict[str, Any]:
        """Who holds control (``holder``), and whether it is this client (``yours``)."""
        return self._get_json("/api/v1/lease")

    def recent_events(self, since: int = 0) -> EventsPublic:
        """Buffered events after ``since`` over plain HTTP (for a poll instead of :meth:`events`)."""
        return EventsPublic.model_validate(self._get_json("/api/v1/events", since=since))

    # ------------------------------------------------------------------ commands

    def command(self, name: str, **args: Any) -> CommandReply:
        """Send one command; returns once the control loop applied it (raises a typed error if refused)."""
        response = self._send("POST", f"/api/v1/commands/{name}", json=command_body(args))
        if response.status_code == 423:
            raise _with_holder(error_for(response), self)
        return reply_of(name, response)

    def pause(self) -> CommandReply:
        return self.command("pause")

    def resume(self) -> CommandReply:
        return self.command("resume")

    def takeover(self) -> CommandReply:
        return self.command("takeover")

    def handback(self) -> CommandReply:
        return self.command("handback")

    def save(self, outcome: str | None = None) -> CommandReply:
        """Save the episode in progress, labelled ``success``, ``failure`` or ``unknown`` (returns once durable)."""
        return self.command("save", outcome=outcome)

    def discard(self) -> CommandReply:
        return self.command("discard")

    def mark(self) -> CommandReply:
        return self.command("mark")

    def upload(self) -> CommandReply:
        return self.command("upload")

    def stop(self) -> CommandReply:
        return self.command("stop")

    def estop(self) -> CommandReply:
        return self.command("estop")

    def reset(self) -> CommandReply:
        """Clear an E-STOP: estopped -> paused (then ``resume`` to hand control back to the policy)."""
        return self.command("reset")

    def end_reset(self) -> CommandReply:
        return self.command("end_reset")

    def end_episode(self) -> CommandReply:
        return self.command("end_episode")

    def exclude(self, episode: int, reason: str) -> CommandReply:
        return self.command("exclude", episode=episode, reason=reason)

    # ------------------------------------------------------------------ waiting and watching

    def wait_for(self, phase: PhaseWanted = None, *, until: Callable[[StatusPublic], bool] | None = None,
                 timeout: float = 30.0, interval: float = 0.1) -> StatusPublic:
        """Poll the status until its phase is ``phase`` (one or several) and ``until(status)`` holds.

        Returns that status; raises ``TimeoutError`` naming the last phase seen after ``timeout`` seconds.
        """
        matches = phase_matcher(phase)
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if matches(status.phase) and (until is None or until(status)):
                return status
            if time.monotonic() >= deadline:
                raise TimeoutError(timeout_message(phase, until, timeout, status))
            time.sleep(interval)

    def events(self, since: int | None = None, *, reconnect: bool = True,
               kinds: Collection[str] | None = None) -> Iterator[EventPublic]:
        """Every event from now (or after ``since``), in order, over the WebSocket, for as long as you iterate.

        After a dropped connection it reconnects and replays what it missed (by sequence number); after a
        server restart it starts again from the new server's first event and first yields a ``resync``
        event saying so. ``kinds`` filters by event kind (``resync`` notices always come through).
        """
        cursor = EventCursor(since=since)
        backoff = Backoff()
        while True:
            # no ?client=: a lease holder's socket releases the lease when it closes; this one only listens
            url = ws_url(self.url, "/api/v1/ws", {"since": cursor.query(), "token": self.token})
            try:
                with connect(url, open_timeout=10, max_size=2**24, user_agent_header="rollout-console-client") as ws:
                    hello = json.loads(ws.recv(timeout=30))
                    if not cursor.on_hello(hello):
                        yield from cursor.take_notices()
                        continue
                    backoff.reset()
                    yield from cursor.take_notices()
                    for text in ws:
                        message = json.loads(text)
                        if message.get("type") != "event":
                            continue
                        event = cursor.accept(message)
                        yield from cursor.take_notices()
                        if event is not None and (kinds is None or event.kind in kinds):
                            yield event
                if not reconnect:
                    return
            except InvalidStatus as exc:  # an HTTP answer instead of a WebSocket: refused, not down
                raise _handshake_refused(url, exc.response.status_code) from exc
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code == 1008:
                    raise _refused(exc.rcvd.reason) from exc
                if not reconnect:
                    return
            except (InvalidHandshake, OSError, TimeoutError) as exc:  # down or restarting: try again
                if not reconnect:
                    raise Unreachable(f"{self.url}: {exc or type(exc).__name__}") from exc
            time.sleep(backoff.next())

    @contextlib.contextmanager
    def control(self, label: str | None = None, *, force: bool = False) -> Iterator[Control]:
        """Hold the operator lease for the block: other clients' commands get 423 until it ends.

        A background thread heartbeats at the server's ``--lease.heartbeat_s``; leaving the block releases
        control (the server pauses a moving robot on release unless ``--lease.pause_on_release=false``).
        Raises ``LeaseHeld`` naming the holder when another client holds it (``force=True`` takes it).
        """
        control = Control(self, label, force)
        control._acquire()
        try:
            yield control
        finally:
            control._release()

    # ------------------------------------------------------------------ sessions, episodes, evaluation

    def start_session(self, config: Any) -> SessionRecord:
        """Start a session with this config (the session part: strategy, policy, dataset, ...) while idle.

        Fields left out take the server's defaults. 409 while a session runs, 422 names a bad field
        (both ``CommandRejected``), 423 when another client holds control.
        """
        return SessionRecord.model_validate(self._post("/api/v1/sessions", json=config_body(config)))

    def sessions(self) -> list[SessionRecord]:
        """Past and current sessions, oldest first."""
        return session_list(self._get_json("/api/v1/sessions"))

    def session(self, session_id: str) -> SessionRecord:
        return SessionRecord.model_validate(self._get_json(f"/api/v1/sessions/{session_id}"))

    def episodes(self) -> list[EpisodePublic]:
        """Saved episodes, oldest first (``NotFound`` when the strategy records nothing)."""
        return EpisodesPublic.model_validate(self._get_json("/api/v1/episodes")).data

    def episode(self, index: int) -> dict[str, Any]:
        """One episode for review: timestamps, state and action curves, intervention flags, video URLs."""
        return self._get_json(f"/api/v1/episodes/{index}")

    def download_video(self, index: int, camera: str, path: str | Path) -> Path:
        """Save the MP4 holding ``camera``'s frames of episode ``index`` to ``path``; returns the path."""
        target = Path(path)
        try:
            with self._http.stream("GET", f"/api/v1/episodes/{index}/videos/{camera}") as response:
                if response.status_code >= 400:
                    response.read()
                    raise error_for(response)
                partial = target.with_name(target.name + ".part")
                with partial.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                partial.replace(target)
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.url} did not answer: {exc}") from exc
        return target

    def dataset(self) -> dict[str, Any]:
        """The dataset being recorded: repo id, root, fps, features, totals, Hub URL."""
        return self._get_json("/api/v1/dataset")

    def evaluation(self) -> EvaluationPublic:
        """Episodic evaluation: success rates with intervals, the comparison, every episode."""
        return EvaluationPublic.model_validate(self._get_json("/api/v1/evaluation"))


def _with_holder(error: ConsoleError, console: Console) -> ConsoleError:
    """A command's 423 names the holder in words; add the holder's record from the lease."""
    if isinstance(error, LeaseHeld) and error.holder is None:
        with contextlib.suppress(ConsoleError, httpx.HTTPError, ValueError):
            error.holder = console.lease().get("holder")
    return error


def _handshake_refused(url: str, status: int) -> ConsoleError:
    where = url.split("?")[0]
    if status in (401, 403):
        return Unauthorized(f"{where}: the WebSocket was refused (HTTP {status})", status=status)
    return Unreachable(f"{where}: the WebSocket handshake was answered with HTTP {status}", status=status)


def _refused(reason: str) -> ConsoleError:
    if reason.startswith("?client="):
        return BadRequest(f"the WebSocket refused the client id: {reason}", status=400)
    return Unauthorized(f"the WebSocket was refused: {reason}", status=401)
