"""RTCInferenceEngine: asynchronous chunk inference with real-time chunking (or naive async).

A background thread computes the next chunk while the control thread keeps executing the current
one. The control thread never waits for inference.

Timeline and alignment. ``next_action(o_k)`` at tick k stores the observation, hands out the action for
tick k and, when the queue then holds at most the trigger threshold (``trigger.py``: a fixed
``queue_threshold``, or by default the measured delay plus a margin), files an inference request. The
request is captured under the same lock, so it is exact: observation o_k, and the prefix = the current
chunk's rows from the one executed at tick k onward (row 0 of the new chunk belongs to tick k, as in
training where ``action[k]`` is recorded with ``observation[k]``). When the chunk arrives, the splice
index is read under the lock that swaps the chunk: ``1 + rows consumed since the request`` (0 + ... when
tick k itself had no action), clamped to H. So an action that was not executed is never skipped and one
that was is never repeated, whatever the latency estimate says.

Guidance. ``inference_delay`` given to the policy is the windowed maximum of observed delays (ticks
from request to splice, plus the request's own tick), warm-up inferences excluded; the prefix is
passed with its real length (never zero-padded), and the policy gives W = 0 beyond it.
``execution_horizon`` (LeRobot's naming: where the guided region ends) is raised to at least
``inference_delay + 1`` for a request whose delay reaches it: with LeRobot's rule the delay would be
clamped to the horizon, the rows executed from the old chunk beyond the horizon and the splice row
would get no guidance at all, and a slow model (e.g. 400 ms at 30 Hz, d = 13 > 10) would seam at
every splice. With d < horizon nothing changes.

With ``guidance=False`` the engine is naive asynchronous inference: same triggering and splicing,
unguided chunks (any policy works).

Splice modes (``splice.py``): ``switch`` takes the new chunk as is; ``blend`` crossfades an unguided
chunk over the overlap with the rest of the current one. With ``max_action_age_s`` an action later
than that for its tick is skipped, never sent. Remote policies (``policy.server``): a tick whose queue
ran dry, or a wait for a first chunk while the server is unreachable, raises ``QueueDryError`` naming
the server (the strategy pauses; the robot holds).

Reset bumps an epoch: a chunk whose request was filed before the reset is discarded on arrival.
Errors: the thread retries after ``error_backoff_s``; after ``max_consecutive_errors`` failures in a
row ``next_action`` raises ``InferenceError`` with the last error until ``reset()``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, InferenceError
from ..policies.protocol import SCHEDULES, Policy, is_guided
from .base import ChunkMetrics, PlotTrace
from .latency import DelayEstimator
from .splice import SPLICE_MODES, blend_overlap, first_timely_row
from .trigger import QueueTrigger

__all__ = ["QueueDryError", "RTCInferenceEngine"]

log = logging.getLogger(__name__)

_JOIN_TIMEOUT_S = 3.0


class QueueDryError(InferenceError):
    """No action for this tick and the (remote) policy cannot deliver one in time."""


@dataclass
class _Request:
    epoch: int
    observation: dict[str, Any]
    prefix: np.ndarray  # rows of the current chunk from the one executed at the request tick
    base: int  # 1 when prefix[0] was executed at the request tick, else 0
    consumed_at: int  # lifetime count of rows handed out, at the request
    tick_at: int  # lifetime count of ticks, at the request
    delay: int  # inference_delay given to the policy
    time_at: float = 0.0  # clock at the request tick (row 0 of the new chunk is due then)


class RTCInferenceEngine:
    """Real-time chunking engine; ``status()["engine"] == "rtc"``, ``status()["mode"]`` guided|naive."""

    name = "rtc"

    def __init__(
        self,
        policy: Policy,
        *,
        fps: float = 30.0,
        queue_threshold: int | None = None,
        trigger_margin: float = 1.0,
        trigger_margin_ms: float = 100.0,
        guidance: bool = True,
        execution_horizon: int = 10,
        max_guidance_weight: float = 10.0,
        prefix_attention_schedule: str = "LINEAR",
        delay_window: int = 10,
        delay_percentile: float = 100.0,
        delay_margin_ticks: int = 0,
        warmup_inferences: int = 1,
        max_consecutive_errors: int = 5,
        error_backoff_s: float = 0.2,
        plot_joint: str | None = None,
        clock: Callable[[], float] = time.perf_counter,
        splice: str = "switch",
        blend_rows: int = 10,
        max_action_age_s: float | None = None,
    ) -> None:
        if guidance and not is_guided(policy):
            raise ConfigError(
                f"the rtc engine needs a policy that supports guided (inpainted) prediction, and "
                f"{policy.name} does not; use --inference.type=sync, naive asynchronous inference with "
                f"--inference.rtc.guidance=false, or a guided policy such as --policy.path=builtin:sim_flow",
                flag="--inference.type",
            )
        schedule = prefix_attention_schedule.upper()
        if schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {prefix_attention_schedule!r} (use {', '.join(SCHEDULES)})",
                              flag="--inference.rtc.prefix_attention_schedule")
        if queue_threshold is not None and queue_threshold < 0:
            raise ConfigError("must be >= 0", flag="--inference.queue_threshold")
        if splice not in SPLICE_MODES:
            raise ConfigError(f"unknown splice mode {splice!r} (use {', '.join(SPLICE_MODES)})",
                              flag="--inference.rtc.splice")
        if max_consecutive_errors < 1:
            raise ValueError("max_consecutive_errors must be >= 1")
        self.policy = policy
        self.policy_name = policy.name
        self.fps = fps
        self.chunk_size = policy.chunk_size
        self.action_dim = len(policy.action_names)
        self.trigger = QueueTrigger(fps, queue_threshold, trigger_margin, trigger_margin_ms)
        self.guidance = guidance
        self.execution_horizon = execution_horizon
        self.max_guidance_weight = max_guidance_weight
        self.schedule = schedule
        self.max_consecutive_errors = max_consecutive_errors
        self.error_backoff_s = error_backoff_s
        self.splice = splice
        self.blend_rows = blend_rows
        self.max_action_age_s = max_action_age_s
        self.server: str | None = getattr(policy, "server", None)  # set for remote policies
        self.stale_skipped = 0
        self.lateness_max_s = 0.0  # latest an action was sent relative to its tick (remote policies)
        self._origin = 0.0
        self.metrics = ChunkMetrics()
        self.plot = PlotTrace(policy.action_names, plot_joint)
        self.delays = DelayEstimator(delay_window, delay_percentile, delay_margin_ticks, warmup_inferences)
        self._warmup_left = warmup_inferences
        self._clock = clock
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stop = False
        self._active = True
        self._epoch = 0
        self._chunk: np.ndarray | None = None
        self._index = 0
        self._fresh = False
        self._waiting = True
        self._ticks = 0
        self._consumed = 0
        self._request: _Request | None = None
        self._inflight: _Request | None = None
        self._retry_at = 0.0
        self._consecutive_errors = 0
        self._failure: str | None = None
        self._policy_reset_pending = False
        self._last_splice: dict[str, int] | None = None
        self.before_inference: Callable[[], None] | None = None
        """Called on the inference thread before each chunk (the CPU budget sets torch's thread count there:
        torch's OpenMP thread count belongs to the thread that sets it)."""

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        with self._cond:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="rtc-inference", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._request = None
            self._cond.notify_all()
            thread = self._thread
        close = getattr(self.policy, "close", None)
        if callable(close):  # a remote policy's connection; an in-flight request then fails at once
            close()
        if thread is not None and thread is not threading.current_thread():
            thread.join(_JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.warning("rtc inference thread did not stop within %.0f s (inference still running)",
                            _JOIN_TIMEOUT_S)
        self._thread = None

    def reset(self) -> None:
        """Drop the queue and any in-flight chunk (it is discarded on arrival); clear a failure."""
        with self._cond:
            self._epoch += 1
            self._chunk = None
            self._index = 0
            self._fresh = False
            self._waiting = True
            self._request = None
            self._failure = None
            self._consecutive_errors = 0
            self._retry_at = 0.0
            self._policy_reset_pending = True
        self.metrics.forget_last_action()
        self.plot.clear()

    def pause(self) -> None:
        """No new inference starts while paused (one already running finishes)."""
        with self._cond:
            self._active = False
            self._request = None

    def resume(self) -> None:
        with self._cond:
            self._active = True

    @property
    def ready(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def failed(self) -> bool:
        return self._failure is not None

    @property
    def busy(self) -> bool:
        """True while an inference request is pending or running."""
        with self._cond:
            return self._request is not None or self._inflight is not None

    # ------------------------------------------------------------------ control thread

    def next_action(self, observation: dict[str, Any]) -> np.ndarray | None:
        if self._thread is None:
            self.start()
        with self._cond:
            if self._failure is not None:
                raise InferenceError(self._failure)
            self._ticks += 1
            action: np.ndarray | None = None
            first = False
            chunk = self._chunk
            now = self._clock()
            if chunk is not None and self.max_action_age_s is not None and self._index < len(chunk):
                timely = min(first_timely_row(self._index, self._origin, now, self.fps, self.max_action_age_s),
                             len(chunk))
                self.stale_skipped += timely - self._index
                self._consumed += timely - self._index
                self._index = timely
            if chunk is not None and self._index < len(chunk):
                if self.max_action_age_s is not None:
                    self.lateness_max_s = max(self.lateness_max_s, now - self._origin - self._index / self.fps)
                action = chunk[self._index].copy()
                self._index += 1
                self._consumed += 1
                first, self._fresh = self._fresh, False
            elif self._waiting:
                self.metrics.waiting_ticks += 1
                if self.server is not None and self._connection_state() in ("reconnecting", "connecting"):
                    raise QueueDryError(f"policy server {self.server} is unreachable "
                                        f"({self._connection_error()}); resume once it is back")
            else:
                self.metrics.starved_ticks += 1
                if self.server is not None and self._active:
                    raise QueueDryError(f"the action queue ran dry waiting for policy server {self.server} "
                                        f"({self._connection_state()}); the robot holds")
            remaining = len(chunk) - self._index if chunk is not None else 0
            if (self._active and self._request is None and self._inflight is None
                    and remaining <= self.queue_threshold and self._clock() >= self._retry_at):
                if action is not None:
                    assert chunk is not None
                    prefix, base = chunk[self._index - 1:].copy(), 1
                else:
                    prefix, base = np.zeros((0, self.action_dim), dtype=np.float32), 0
                self._request = _Request(
                    epoch=self._epoch, observation=observation, prefix=prefix, base=base,
                    consumed_at=self._consumed, tick_at=self._ticks, delay=self._delay_estimate(),
                    time_at=now,
                )
                self._cond.notify_all()
        if action is not None:
            self.metrics.executed(action, first_of_chunk=first)
        self.plot.executed(action)
        return action

    def _connection(self) -> dict[str, Any] | None:
        status = getattr(self.policy, "connection_status", None)
        return status() if callable(status) else None

    def _connection_state(self) -> str:
        connection = self._connection()
        return str(connection["state"]) if connection else "unknown"

    def _connection_error(self) -> str:
        connection = self._connection()
        return str((connection or {}).get("last_error") or (connection or {}).get("state") or "no connection")

    def _delay_estimate(self) -> int:
        return max(1, self.delays.estimate(default=1) or 1)

    @property
    def queue_threshold(self) -> int:
        """The trigger threshold in force: fixed, or following the current delay estimate."""
        return self.trigger.threshold(self._delay_estimate())

    def effective_horizon(self, delay: int) -> int:
        """The end of the guided region for ``delay``: the configured horizon, at least ``delay + 1``."""
        return max(self.execution_horizon, delay + 1)

    # ------------------------------------------------------------------ inference thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stop and self._request is None:
                    self._cond.wait()
                if self._stop:
                    return
                request = self._request
                assert request is not None
                self._request = None
                self._inflight = request
                reset_policy, self._policy_reset_pending = self._policy_reset_pending, False
            started = self._clock()
            error: BaseException | None = None
            chunk: np.ndarray | None = None
            try:
                if reset_policy:
                    self.policy.reset()
                if self.before_inference is not None:
                    self.before_inference()
                chunk = self._infer(request)
            except Exception as exc:  # reported through status and, when persistent, next_action
                error = exc
            latency = self._clock() - started
            with self._cond:
                self._inflight = None
                if error is not None or chunk is None:
                    self._failed_once(error)
                    self._cond.notify_all()
                    continue
                self._consecutive_errors = 0
                if self._warmup_left > 0:
                    self._warmup_left -= 1
                    self.metrics.cold_start_s = latency
                else:
                    self.metrics.latency_s.add(latency)
                self.metrics.inferences += 1
                if request.epoch != self._epoch:
                    self.metrics.discarded += 1
                else:
                    self._splice(request, chunk)
                self._cond.notify_all()

    def _infer(self, request: _Request) -> np.ndarray:
        if self.guidance and len(request.prefix) > 0:
            guided: Any = self.policy
            chunk = guided.predict_chunk_guided(
                request.observation, request.prefix, request.delay, self.effective_horizon(request.delay),
                self.schedule, self.max_guidance_weight,
            )
        else:
            chunk = self.policy.predict_chunk(request.observation)
        chunk = np.asarray(chunk, dtype=np.float32)
        if chunk.ndim != 2 or chunk.shape[1] != self.action_dim or len(chunk) == 0:
            raise InferenceError(f"{self.policy_name} returned a chunk of shape {chunk.shape}, "
                                 f"expected (H, {self.action_dim})")
        if not np.isfinite(chunk).all():
            raise InferenceError(f"{self.policy_name} returned non-finite actions")
        return chunk

    def _splice(self, request: _Request, chunk: np.ndarray) -> None:
        """Swap in the new chunk at the first row not yet covered by an executed action (lock held)."""
        consumed = self._consumed - request.consumed_at
        elapsed_ticks = self._ticks - request.tick_at
        start = min(request.base + consumed, len(chunk))
        self.delays.add(1 + elapsed_ticks)
        guided = self.guidance and len(request.prefix) > 0
        if self.splice == "blend" and not guided and self._chunk is not None:
            chunk = blend_overlap(chunk, start, self._chunk[self._index:], self.blend_rows)
        # Row i is due at origin + i/fps. When nothing ran between the request and now (a first chunk
        # after start/reset: the robot held still at the observed pose), the plan starts now instead.
        self._origin = request.time_at if (request.base or consumed) else self._clock() - start / self.fps
        self._chunk = chunk
        self._index = start
        self._fresh = True
        if start < len(chunk):
            self._waiting = False
        self._last_splice = {"row": start, "consumed": consumed, "ticks": elapsed_ticks,
                             "delay_estimate": request.delay, "prefix_rows": len(request.prefix)}

    def _failed_once(self, error: BaseException | None) -> None:
        """Count a failed inference (lock held); after too many in a row, fail next_action."""
        message = f"{self.policy_name}: {error}" if error is not None else f"{self.policy_name}: no chunk"
        self.metrics.errors += 1
        self.metrics.last_error = message
        self._consecutive_errors += 1
        self._retry_at = self._clock() + self.error_backoff_s
        log.warning("rtc inference failed (%d in a row): %s", self._consecutive_errors, message)
        if getattr(error, "fatal", False):  # e.g. a server whose actions do not fit the robot
            self._failure = message
        elif self._consecutive_errors >= self.max_consecutive_errors:
            self._failure = (f"inference failed {self._consecutive_errors} times in a row; "
                             f"last error: {message}")

    # ------------------------------------------------------------------ status

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until no request is pending or running (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._request is not None or self._inflight is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.01))
        return True

    def status(self) -> dict[str, Any]:
        with self._cond:
            remaining = len(self._chunk) - self._index if self._chunk is not None else 0
            upcoming = self._chunk[self._index:].copy() if self._chunk is not None else None
            state = {
                "engine": self.name,
                "mode": "guided" if self.guidance else "naive",
                "queue_depth": remaining,
                "delay_ticks": self._delay_estimate(),
                "delay_window": self.delays.values,
                "last_splice": dict(self._last_splice) if self._last_splice else None,
                "inflight": self._inflight is not None or self._request is not None,
                "active": self._active,
                "failed": self._failure,
                "queue_threshold": self.queue_threshold,
                "queue_threshold_mode": self.trigger.mode,
                "keeps_up": self.trigger.keeps_up(self._delay_estimate(), self.chunk_size),
                "chunk_size": self.chunk_size,
                "execution_horizon": self.execution_horizon,
                "execution_horizon_effective": self.effective_horizon(self._delay_estimate()),
                "max_guidance_weight": self.max_guidance_weight,
                "prefix_attention_schedule": self.schedule,
                "splice": self.splice,
                "stale_skipped": self.stale_skipped,
                "action_lateness_ms_max": round(self.lateness_max_s * 1000.0, 2),
                "max_action_age_ms": None if self.max_action_age_s is None else self.max_action_age_s * 1000.0,
            }
        connection = self._connection()
        if connection is not None:
            state["connection"] = connection
        state.update(self.metrics.to_dict())
        state["plot"] = self.plot.to_dict(upcoming)
        return state
