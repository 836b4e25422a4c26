"""SyncInferenceEngine: runs the policy on the control thread whenever its action queue is empty.

This is the baseline: the tick that needs a new chunk stalls for the whole inference latency.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np

from ..errors import InferenceError
from ..policies.protocol import Policy
from .base import ChunkMetrics, PlotTrace

__all__ = ["SyncInferenceEngine"]


class SyncInferenceEngine:
    """Executes the first ``n_action_steps`` actions of each chunk, then predicts the next chunk inline."""

    name = "sync"

    def __init__(self, policy: Policy, n_action_steps: int | None = None, plot_joint: str | None = None) -> None:
        self.policy = policy
        self.policy_name = policy.name
        self.n_action_steps = min(n_action_steps or policy.chunk_size, policy.chunk_size)
        self._requested_steps = n_action_steps  # a remote policy's chunk size is known only from its replies
        self.metrics = ChunkMetrics()
        self.plot = PlotTrace(policy.action_names, plot_joint)
        self._queue: deque[np.ndarray] = deque()
        self._fresh_chunk = False
        self._cold = True

    def start(self) -> None:
        """Nothing runs in the background."""

    def stop(self) -> None:
        self._queue.clear()
        close = getattr(self.policy, "close", None)
        if callable(close):  # a remote policy's connection
            close()

    def reset(self) -> None:
        self._queue.clear()
        self.policy.reset()
        self.metrics.forget_last_action()
        self.plot.clear()

    def pause(self) -> None:
        self._queue.clear()

    def resume(self) -> None:
        self.metrics.forget_last_action()

    def next_action(self, observation: dict[str, Any]) -> np.ndarray | None:
        if not self._queue:
            started = time.perf_counter()
            try:
                chunk = np.asarray(self.policy.predict_chunk(observation), dtype=np.float32)
            except Exception as exc:
                self.metrics.errors += 1
                self.metrics.last_error = f"{self.policy_name}: {exc}"
                raise
            elapsed = time.perf_counter() - started
            if self._cold:
                self.metrics.cold_start_s = elapsed
                self._cold = False
            else:
                self.metrics.latency_s.add(elapsed)
            self.metrics.stalled(elapsed)
            self.metrics.inferences += 1
            steps = min(self._requested_steps or len(chunk), len(chunk))
            if chunk.ndim != 2 or steps < 1:
                raise InferenceError(f"{self.policy_name} returned a chunk of shape {chunk.shape}")
            self.n_action_steps = steps
            self._queue.extend(chunk[:steps])
            self._fresh_chunk = True
        action = self._queue.popleft()
        self.metrics.executed(action, first_of_chunk=self._fresh_chunk)
        self.plot.executed(action)
        self._fresh_chunk = False
        return action

    def status(self) -> dict[str, Any]:
        queued = np.array(self._queue) if self._queue else None
        return {
            "engine": self.name,
            "queue_depth": len(self._queue),
            "delay_ticks": 0,
            "chunk_size": self.policy.chunk_size,
            "n_action_steps": self.n_action_steps,
            **self.metrics.to_dict(),
            "plot": self.plot.to_dict(queued),
            **({"connection": self.policy.connection_status()}  # type: ignore[attr-defined]
               if callable(getattr(self.policy, "connection_status", None)) else {}),
        }
