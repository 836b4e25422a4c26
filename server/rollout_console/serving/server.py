"""PolicyServer: one policy behind openpi's WebSocket protocol, with the RTC extension.

Behaviour follows openpi's ``websocket_policy_server``: metadata first, then one reply per request;
an error becomes a text frame and the connection closes (1011). Differences, on purpose:

- API-key auth: with a key configured, a handshake without ``Authorization: Api-Key <key>`` gets
  HTTP 401 (compared in constant time); ``/healthz`` and ``/metrics`` stay open (no secrets there).
- One robot at a time: a second robot's connection while one is served gets HTTP 409; a reconnect
  from the same console (same ``X-Rollout-Client`` id) replaces its old, possibly half-dead one.
- Inference runs on a worker thread so pings and ``/healthz`` stay live while the model computes.
- ``"rtc"`` in a request (see ``policies/remote/wire.py``) makes a guided policy inpaint.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import numpy as np
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .. import __version__
from ..policies.protocol import Policy, is_guided
from ..policies.remote.codec import CodecError, packb, unpackb
from ..policies.remote.wire import (
    CLIENT_HEADER,
    META_ACTION_DIM,
    META_ACTION_HORIZON,
    META_ACTION_NAMES,
    META_RTC,
    RTC_FIELD,
    RTC_VERSION,
)
from .metrics import ServerMetrics

__all__ = ["PolicyServer"]

log = logging.getLogger(__name__)


class PolicyServer:
    """Serves ``policy`` on ``host:port``; ``api_key`` None means no auth (loopback only, checked by the CLI)."""

    def __init__(self, policy: Policy, *, fps: float, api_key: str | None = None) -> None:
        self.policy = policy
        self.fps = fps
        self._api_key = api_key
        self.metrics = ServerMetrics()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-infer")
        self._robot: ServerConnection | None = None
        self.guided = is_guided(policy)

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            META_ACTION_HORIZON: int(self.policy.chunk_size),
            META_ACTION_DIM: len(self.policy.action_names),
            META_ACTION_NAMES: list(self.policy.action_names),
            "policy": self.policy.name,
            "fps": self.fps,
            "server": f"rollout-console serve-policy {__version__}",
        }
        if self.guided:
            meta[META_RTC] = {"version": RTC_VERSION}
        return meta

    def warm_up(self, observation: dict[str, Any]) -> float:
        """One plain (and one guided) inference before the first robot connects: the first request of
        a cold model (allocation, autograd, CUDA kernels) must not be the robot's. Returns seconds."""
        started = time.perf_counter()
        chunk = np.asarray(self.policy.predict_chunk(dict(observation)))
        if self.guided:
            prefix = np.repeat(chunk[:1], min(len(chunk), 10), axis=0).astype(np.float32)
            self._infer({**observation, RTC_FIELD: {"prefix": prefix, "inference_delay": 3}})
        self.policy.reset()
        return time.perf_counter() - started

    # ------------------------------------------------------------ HTTP side

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/healthz":
            return connection.respond(HTTPStatus.OK, "ok\n")
        if path == "/metrics":
            response = connection.respond(HTTPStatus.OK, self.metrics.render().decode())
            response.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8"
            return response
        if self._api_key is not None:
            given = request.headers.get("Authorization", "")
            expected = f"Api-Key {self._api_key}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                self.metrics.refused.labels("auth").inc()
                return connection.respond(HTTPStatus.UNAUTHORIZED, "missing or wrong API key\n")
        if self._robot is not None and not self._same_client(request):
            self.metrics.refused.labels("busy").inc()
            return connection.respond(HTTPStatus.CONFLICT, "serving another robot\n")
        return None

    def _same_client(self, request: Request) -> bool:
        current = self._robot.request if self._robot is not None else None
        mine = request.headers.get(CLIENT_HEADER)
        return bool(mine) and current is not None and current.headers.get(CLIENT_HEADER) == mine

    # ------------------------------------------------------------ WebSocket side

    def _infer(self, request: dict[str, Any]) -> tuple[np.ndarray, str]:
        rtc = request.pop(RTC_FIELD, None)
        if isinstance(rtc, dict) and self.guided and len(rtc.get("prefix", ())) > 0:
            guided: Any = self.policy
            chunk = guided.predict_chunk_guided(
                request, np.asarray(rtc["prefix"], dtype=np.float32), int(rtc.get("inference_delay", 1)),
                int(rtc.get("execution_horizon", 10)), str(rtc.get("schedule", "LINEAR")),
                float(rtc.get("max_guidance_weight", 10.0)))
            return np.asarray(chunk, dtype=np.float32), "guided"
        return np.asarray(self.policy.predict_chunk(request), dtype=np.float32), "plain"

    async def _handle(self, ws: ServerConnection) -> None:
        old = self._robot
        if old is not None:
            if ws.request is None or not self._same_client(ws.request):  # lost a handshake race
                await ws.close(1013, "serving another robot")
                return
            await old.close(1012, "replaced by a newer connection from the same console")
        self._robot = ws
        self.metrics.connections.inc()
        peer = ws.remote_address
        log.info("robot connected from %s", peer)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self.policy.reset)
            await ws.send(packb(self.metadata()))
            while True:
                message = await ws.recv()
                if isinstance(message, str):
                    raise CodecError("expected a binary msgpack frame, got text")
                self.metrics.bytes_in.inc(len(message))
                request = unpackb(message)
                if not isinstance(request, dict):
                    raise CodecError("a request must be a map of observation keys")
                started = time.perf_counter()
                chunk, kind = await loop.run_in_executor(self._executor, self._infer, request)
                infer_s = time.perf_counter() - started
                self.metrics.infer_seconds.observe(infer_s)
                self.metrics.requests.labels(kind).inc()
                reply = packb({"actions": chunk, "server_timing": {"infer_ms": infer_s * 1000.0}})
                self.metrics.bytes_out.inc(len(reply))
                await ws.send(reply)
        except ConnectionClosed:
            pass
        except Exception as exc:  # openpi: the error as a text frame, then close 1011
            self.metrics.errors.inc()
            log.warning("request from %s failed: %s", peer, exc)
            try:
                await ws.send(f"{type(exc).__name__}: {exc}")
                await ws.close(1011, "internal server error")
            except ConnectionClosed:
                pass
        finally:
            if self._robot is ws:
                self._robot = None
            self.metrics.connections.dec()
            log.info("robot %s disconnected", peer)

    async def serve(self, host: str, port: int, ready: asyncio.Future[int] | None = None) -> None:
        """Serve until cancelled; ``ready`` receives the bound port."""
        async with serve(self._handle, host, port, process_request=self._process_request, compression=None,
                         max_size=None, ping_interval=5, ping_timeout=10) as server:
            bound = _bound_port(server)
            if ready is not None and not ready.done():
                ready.set_result(bound)
            await server.serve_forever()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _bound_port(server: Server) -> int:
    return int(next(iter(server.sockets)).getsockname()[1])
