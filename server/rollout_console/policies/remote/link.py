"""RemoteLink: one WebSocket connection to a policy server, kept alive, with a health state.

Only the inference worker calls ``request`` (it may block up to ``request_timeout_s``); the control
thread only reads ``health()``, which never blocks on the network. A supervisor thread reconnects
with exponential back-off whenever the connection is lost and pings an idle connection so a dead
server is noticed while the session is paused.

Health states (what the operator sees):
    connecting    the first connection is being made
    streaming     connected, replies within the latency budget
    degraded      connected, recent replies slower than the budget
    stalled       a request has waited longer than ``stall_after_s`` (or a ping went unanswered)
    reconnecting  the connection was lost; retrying with back-off
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from ...window import SlidingWindow
from .codec import CodecError, unpackb
from .wire import CLIENT_HEADER, auth_header

__all__ = ["RemoteError", "RemoteLink", "RemoteRefused"]

log = logging.getLogger(__name__)

_IDLE_PING_S = 1.0
# websockets >= 16 warns unless a directly returned connection is asked for explicitly
_DIRECT: dict[str, Any] = {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}
_LATENCY_WINDOW = 5  # replies the degraded test looks at


class RemoteError(ConnectionError):
    """The policy server could not be reached, answered with an error, or did not answer in time."""


class RemoteRefused(RemoteError):
    """The server refused the handshake (HTTP status): a wrong API key (401), busy (409), ..."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class RemoteLink:
    """A supervised connection to ``url`` speaking openpi's WebSocket protocol."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        connect_timeout_s: float = 5.0,
        request_timeout_s: float = 5.0,
        latency_budget_s: float = 0.25,
        stall_after_s: float = 1.0,
        backoff_s: tuple[float, float] = (0.25, 2.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._api_key = api_key
        self.client_id = uuid.uuid4().hex
        self.connect_timeout_s = connect_timeout_s
        self.request_timeout_s = request_timeout_s
        self.latency_budget_s = latency_budget_s
        self.stall_after_s = stall_after_s
        self._backoff_min, self._backoff_max = backoff_s
        self._clock = clock
        self._cond = threading.Condition()
        self._io = threading.Lock()  # one request (or idle ping) on the wire at a time
        self._conn: ClientConnection | None = None
        self._ever_connected = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self._backoff = self._backoff_min
        self._next_attempt = 0.0
        self._inflight_since: float | None = None
        self._ping_failed = False
        self._last_used = 0.0
        self.metadata: dict[str, Any] = {}
        self.latency = SlidingWindow(200)
        self._recent = SlidingWindow(_LATENCY_WINDOW)
        self.reconnects = 0
        self.last_error: str | None = None
        self.bytes_sent = 0
        self.bytes_received = 0
        self.requests = 0

    # ------------------------------------------------------------ connecting

    def _open(self) -> tuple[ClientConnection, dict[str, Any]]:
        headers = [(CLIENT_HEADER, self.client_id)] + ([auth_header(self._api_key)] if self._api_key else [])
        try:
            conn = connect(self.url, additional_headers=headers, open_timeout=self.connect_timeout_s,
                           compression=None, max_size=None, proxy=None, ping_interval=None,
                           close_timeout=1.0, **_DIRECT)
        except InvalidStatus as exc:
            status = exc.response.status_code
            why = {401: "refused the API key (HTTP 401): check ROLLOUT_POLICY_API_KEY",
                   403: "refused the connection (HTTP 403)",
                   409: "is serving another robot (HTTP 409)"}.get(status, f"refused the handshake (HTTP {status})")
            raise RemoteRefused(f"policy server {self.url} {why}", status) from None
        except InvalidURI as exc:
            raise RemoteError(f"{self.url} is not a ws:// or wss:// URL: {exc}") from None
        except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as exc:
            raise RemoteError(f"cannot connect to policy server {self.url}: {exc or type(exc).__name__}") from None
        try:
            first = conn.recv(timeout=self.connect_timeout_s)
            if isinstance(first, str):
                raise RemoteError(f"policy server {self.url} sent an error instead of its metadata: {first[-300:]}")
            metadata = unpackb(first)
            if not isinstance(metadata, dict):
                raise RemoteError(f"policy server {self.url} sent metadata that is not a map")
        except (TimeoutError, ConnectionClosed, CodecError) as exc:
            conn.close()
            raise RemoteError(f"policy server {self.url} sent no metadata: {exc or type(exc).__name__}") from None
        except RemoteError:
            conn.close()
            raise
        return conn, metadata

    def connect_first(self) -> dict[str, Any]:
        """Connect now (blocking, before the robot moves) and return the server's metadata."""
        conn, metadata = self._open()
        with self._cond:
            self._conn = conn
            self.metadata = metadata
            self._ever_connected = True
            self._last_used = self._clock()
            self._cond.notify_all()
        return metadata

    def start(self) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._supervise, name="policy-link", daemon=True)
                self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            conn, self._conn = self._conn, None
            self._cond.notify_all()
        if conn is not None:
            conn.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    def _drop(self, conn: ClientConnection, why: str) -> None:
        """Forget a broken connection (the supervisor reconnects)."""
        with self._cond:
            if self._conn is conn:
                self._conn = None
                self.last_error = why
                self._backoff = self._backoff_min
                self._next_attempt = self._clock()
                self._cond.notify_all()
        log.warning("policy server %s: %s; reconnecting", self.url, why)
        threading.Thread(target=conn.close, name="policy-link-close", daemon=True).start()

    def _supervise(self) -> None:
        while True:
            with self._cond:
                if self._stop:
                    return
                conn = self._conn
                now = self._clock()
                if conn is None and now < self._next_attempt:
                    self._cond.wait(min(self._next_attempt - now, 0.5))
                    continue
            if conn is None:
                try:
                    self._reconnect()
                except Exception as exc:  # never let the supervisor die: it is what brings the link back
                    log.exception("policy server %s: reconnect failed", self.url)
                    with self._cond:
                        self.last_error = f"{type(exc).__name__}: {exc}"
                        self._next_attempt = self._clock() + self._backoff_max
            elif self._clock() - self._last_used >= _IDLE_PING_S:
                self._ping(conn)
            else:
                with self._cond:
                    if not self._stop:
                        self._cond.wait(0.2)

    def _reconnect(self) -> None:
        try:
            conn, metadata = self._open()
        except RemoteError as exc:
            with self._cond:
                self.last_error = str(exc)
                self._next_attempt = self._clock() + self._backoff
                self._backoff = min(self._backoff * 2, self._backoff_max)
            return
        with self._cond:
            if self._stop:
                conn.close()
                return
            self._conn = conn
            self.metadata = metadata
            self.reconnects += 1
            self._backoff = self._backoff_min
            self._last_used = self._clock()
            self._ping_failed = False
            self._cond.notify_all()
        log.info("policy server %s: reconnected", self.url)

    def _ping(self, conn: ClientConnection) -> None:
        if not self._io.acquire(blocking=False):
            return
        try:
            try:
                pong = conn.ping()
            except ConnectionClosed:
                self._drop(conn, "connection closed")
                return
            answered = pong.wait(self.stall_after_s)
            if not answered:
                self._ping_failed = True
                answered = pong.wait(max(0.0, self.request_timeout_s - self.stall_after_s))
            self._ping_failed = False
            if answered:
                self._last_used = self._clock()
            else:
                self._drop(conn, f"no pong within {self.request_timeout_s:g} s")
        finally:
            self._io.release()

    # ------------------------------------------------------------ requests

    def _wait_connected(self) -> ClientConnection:
        deadline = self._clock() + self.request_timeout_s
        with self._cond:
            while self._conn is None and not self._stop:
                left = deadline - self._clock()
                if left <= 0:
                    raise RemoteError(f"policy server {self.url} is unreachable ({self.last_error or 'no connection'})")
                self._cond.wait(min(left, 0.1))
            if self._conn is None:
                raise RemoteError(f"policy server {self.url}: link closed")
            return self._conn

    def request(self, payload: bytes) -> Any:
        """Send one observation, return the decoded reply (inference worker only; blocks)."""
        conn = self._wait_connected()
        with self._io:
            started = self._clock()
            with self._cond:
                self._inflight_since = started
            try:
                conn.send(payload)
                reply = conn.recv(timeout=self.request_timeout_s)
            except TimeoutError:
                self._drop(conn, f"no reply within {self.request_timeout_s:g} s")
                raise RemoteError(f"policy server {self.url} did not reply within {self.request_timeout_s:g} s") from None
            except (ConnectionClosed, OSError) as exc:
                self._drop(conn, f"connection closed ({exc})")
                raise RemoteError(f"policy server {self.url} closed the connection") from None
            finally:
                with self._cond:
                    self._inflight_since = None
            elapsed = self._clock() - started
            self._last_used = self._clock()
        self.requests += 1
        self.bytes_sent = len(payload)
        self.bytes_received = len(reply)
        if isinstance(reply, str):  # openpi: the traceback as a text frame, then it closes
            last = reply.strip().splitlines()[-1] if reply.strip() else "(empty)"
            self._drop(conn, f"server error: {last}")
            raise RemoteError(f"policy server {self.url} failed: {last}")
        self.latency.add(elapsed)
        self._recent.add(elapsed)
        try:
            return unpackb(reply)
        except CodecError as exc:
            raise RemoteError(f"policy server {self.url} sent an undecodable reply: {exc}") from None

    # ------------------------------------------------------------ health

    def state(self) -> str:
        with self._cond:
            if not self._ever_connected:
                return "connecting"
            if self._conn is None:
                return "reconnecting"
            inflight = self._inflight_since
        if self._ping_failed or (inflight is not None and self._clock() - inflight > self.stall_after_s):
            return "stalled"
        (recent,) = self._recent.percentiles(50)
        if recent is not None and recent > self.latency_budget_s:
            return "degraded"
        return "streaming"

    def health(self) -> dict[str, Any]:
        """JSON-ready connection state for ``status.inference.connection`` (never blocks on I/O)."""
        p50, p99 = self.latency.percentiles(50, 99)
        with self._cond:
            inflight = self._inflight_since

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value * 1000.0, 1)

        return {
            "state": self.state(),
            "server": self.url,
            "latency_ms": {"p50": ms(p50), "p99": ms(p99)},
            "latency_budget_ms": ms(self.latency_budget_s),
            "in_flight_ms": ms(self._clock() - inflight) if inflight is not None else None,
            "requests": self.requests,
            "reconnects": self.reconnects,
            "bytes_sent_last": self.bytes_sent,
            "bytes_received_last": self.bytes_received,
            "last_error": self.last_error,
        }
