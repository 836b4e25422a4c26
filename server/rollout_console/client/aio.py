"""``AsyncConsole``: the same surface as :class:`Console`, for asyncio programs (``await`` every call).

    async with AsyncConsole("http://127.0.0.1:8000") as console:
        async with console.control(label="nightly run"):
            await console.pause()
        async for event in console.events():
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Collection
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from ..protocol.episodes import EpisodePublic, EpisodesPublic
from ..protocol.evaluation import EvaluationPublic
from ..protocol.messages import EventPublic, EventsPublic
from ..protocol.replies import Health
from ..protocol.status import CameraInfo, StatusPublic
from .console import _handshake_refused, _refused
from .errors import ConsoleError, LeaseHeld, Unreachable
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

__all__ = ["AsyncConsole", "AsyncControl"]


class AsyncControl:
    """The operator lease while an ``async with console.control(...)`` block runs; heartbeats in a task."""

    def __init__(self, console: AsyncConsole, label: str | None, force: bool) -> None:
        self._console = console
        self.label = label
        self.force = force
        self._task: asyncio.Task[None] | None = None
        self.keeper = LeaseKeeper()

    @property
    def lost(self) -> str | None:
        return self.keeper.lost

    async def _acquire(self) -> None:
        body = {"label": self.label, "force": self.force}
        answer = await self._console._post("/api/v1/lease/acquire", json={k: v for k, v in body.items() if v})
        period = heartbeat_period(await self._console._get_json("/api/v1/lease"))
        self.keeper.acquired(answer)
        self._task = asyncio.create_task(self._beat(period), name="rollout-console-lease")

    async def _beat(self, period: float) -> None:
        while True:
            await asyncio.sleep(period)
            try:
                response = await self._console._http.post("/api/v1/lease/heartbeat")
            except httpx.HTTPError as exc:
                self.keeper.missed(str(exc))
                continue
            body = None
            with contextlib.suppress(ValueError):
                body = response.json()
            if not self.keeper.answered(response.status_code, body):
                return

    async def _release(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.keeper.lost is None:
            with contextlib.suppress(httpx.HTTPError, ConsoleError):
                await self._console._post("/api/v1/lease/release")


class AsyncConsole:
    """Asyncio twin of :class:`Console` (same arguments, same methods, same errors)."""

    def __init__(self, url: str, token: str | None = None, name: str | None = None, *,
                 timeout: float = 60.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = normalize_url(url)
        self.token = token
        self.client_id = new_client_id(name)
        self._http = httpx.AsyncClient(base_url=self.url, headers=client_headers(token, self.client_id),
                                       timeout=httpx.Timeout(timeout, connect=10.0), transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncConsole:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.url} did not answer: {exc or type(exc).__name__}") from exc

    async def _get_json(self, path: str, **params: Any) -> Any:
        response = await self._send("GET", path, params={k: v for k, v in params.items() if v is not None})
        raise_for_status(response)
        return response.json()

    async def _post(self, path: str, json: Any = None) -> Any:
        response = await self._send("POST", path, json=json)
        raise_for_status(response)
        return response.json()

    # ------------------------------------------------------------------ reading

    async def health(self) -> Health:
        return Health.model_validate(await self._get_json("/healthz"))

    async def status(self) -> StatusPublic:
        return StatusPublic.model_validate(await self._get_json("/api/v1/status"))

    async def config(self) -> dict[str, Any]:
        return await self._get_json("/api/v1/config")

    async def cameras(self) -> list[CameraInfo]:
        return [CameraInfo.model_validate(item) for item in await self._get_json("/api/v1/cameras")]

    async def snapshot(self, camera: str) -> bytes:
        response = await self._send("GET", f"/api/v1/cameras/{camera}/snapshot.jpg")
        raise_for_status(response)
        return response.content

    async def lease(self) -> dict[str, Any]:
        return await self._get_json("/api/v1/lease")

    async def recent_events(self, since: int = 0) -> EventsPublic:
        return EventsPublic.model_validate(await self._get_json("/api/v1/events", since=since))

    # ------------------------------------------------------------------ commands

    async def command(self, name: str, **args: Any) -> CommandReply:
        response = await self._send("POST", f"/api/v1/commands/{name}", json=command_body(args))
        if response.status_code == 423:
            error = error_for(response)
            if isinstance(error, LeaseHeld) and error.holder is None:
                with contextlib.suppress(ConsoleError, httpx.HTTPError, ValueError):
                    error.holder = (await self.lease()).get("holder")
            raise error
        return reply_of(name, response)

    async def pause(self) -> CommandReply:
        return await self.command("pause")

    async def resume(self) -> CommandReply:
        return await self.command("resume")

    async def takeover(self) -> CommandReply:
        return await self.command("takeover")

    async def handback(self) -> CommandReply:
        return await self.command("handback")

    async def save(self, outcome: str | None = None) -> CommandReply:
        return await self.command("save", outcome=outcome)

    async def discard(self) -> CommandReply:
        return await self.command("discard")

    async def mark(self) -> CommandReply:
        return await self.command("mark")

    async def upload(self) -> CommandReply:
        return await self.command("upload")

    async def stop(self) -> CommandReply:
        return await self.command("stop")

    async def estop(self) -> CommandReply:
        return await self.command("estop")

    async def reset(self) -> CommandReply:
        """Clear an E-STOP: estopped -> paused (then ``resume`` to hand control back to the policy)."""
        return await self.command("reset")

    async def end_reset(self) -> CommandReply:
        return await self.command("end_reset")

    async def end_episode(self) -> CommandReply:
        return await self.command("end_episode")

    async def exclude(self, episode: int, reason: str) -> CommandReply:
        return await self.command("exclude", episode=episode, reason=reason)

    # ------------------------------------------------------------------ waiting and watching

    async def wait_for(self, phase: PhaseWanted = None, *, until: Callable[[StatusPublic], bool] | None = None,
                       timeout: float = 30.0, interval: float = 0.1) -> StatusPublic:
        matches = phase_matcher(phase)
        deadline = time.monotonic() + timeout
        while True:
            status = await self.status()
            if matches(status.phase) and (until is None or until(status)):
                return status
            if time.monotonic() >= deadline:
                raise TimeoutError(timeout_message(phase, until, timeout, status))
            await asyncio.sleep(interval)

    async def events(self, since: int | None = None, *, reconnect: bool = True,
                     kinds: Collection[str] | None = None) -> AsyncIterator[EventPublic]:
        cursor = EventCursor(since=since)
        backoff = Backoff()
        while True:
            url = ws_url(self.url, "/api/v1/ws", {"since": cursor.query(), "token": self.token})
            try:
                async with connect(url, open_timeout=10, max_size=2**24,
                                   user_agent_header="rollout-console-client") as ws:
                    hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    if not cursor.on_hello(hello):
                        for notice in cursor.take_notices():
                            yield notice
                        continue
                    backoff.reset()
                    for notice in cursor.take_notices():
                        yield notice
                    async for text in ws:
                        message = json.loads(text)
                        if message.get("type") != "event":
                            continue
                        event = cursor.accept(message)
                        for notice in cursor.take_notices():
                            yield notice
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
            await asyncio.sleep(backoff.next())

    @contextlib.asynccontextmanager
    async def control(self, label: str | None = None, *, force: bool = False) -> AsyncIterator[AsyncControl]:
        control = AsyncControl(self, label, force)
        await control._acquire()
        try:
            yield control
        finally:
            await control._release()

    # ------------------------------------------------------------------ sessions, episodes, evaluation

    async def start_session(self, config: Any) -> SessionRecord:
        return SessionRecord.model_validate(await self._post("/api/v1/sessions", json=config_body(config)))

    async def sessions(self) -> list[SessionRecord]:
        return session_list(await self._get_json("/api/v1/sessions"))

    async def session(self, session_id: str) -> SessionRecord:
        return SessionRecord.model_validate(await self._get_json(f"/api/v1/sessions/{session_id}"))

    async def episodes(self) -> list[EpisodePublic]:
        return EpisodesPublic.model_validate(await self._get_json("/api/v1/episodes")).data

    async def episode(self, index: int) -> dict[str, Any]:
        return await self._get_json(f"/api/v1/episodes/{index}")

    async def download_video(self, index: int, camera: str, path: str | Path) -> Path:
        target = Path(path)
        try:
            async with self._http.stream("GET", f"/api/v1/episodes/{index}/videos/{camera}") as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise error_for(response)
                partial = target.with_name(target.name + ".part")
                with partial.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                partial.replace(target)
        except httpx.TransportError as exc:
            raise Unreachable(f"{self.url} did not answer: {exc}") from exc
        return target

    async def dataset(self) -> dict[str, Any]:
        return await self._get_json("/api/v1/dataset")

    async def evaluation(self) -> EvaluationPublic:
        return EvaluationPublic.model_validate(await self._get_json("/api/v1/evaluation"))
