"""When the asynchronous engine files its next inference: a fixed queue threshold, or one that follows
the measured latency.

A request filed when ``T`` actions remain is in time when its chunk arrives within ``T`` ticks. The
automatic rule sets ``T`` to the delay estimate (a high percentile of the observed request-to-splice
delays, in ticks: the latency as the control loop experienced it, contention included) plus a margin that
grows with it, because a slow, loaded inference also varies more:

    T = d + max(ceil(margin_ms * fps / 1000), ceil(margin_fraction * d))

A fast policy then infers rarely (less CPU for the encoders and the loop), a slow one early enough to
cover its own jitter. A large ``T`` means "infer continuously" (the next request right after each splice).

With one inference in flight at a time, the first ``d`` rows of every chunk are already in the past when
it arrives, so the queue can stay filled only while ``2 d <= chunk length`` (half the chunk covers the next
inference). Beyond that no trigger helps (a faster model, a longer chunk or more CPU does), and the status
says so (``keeps_up``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["QueueTrigger"]


@dataclass(frozen=True)
class QueueTrigger:
    """The queue depth at or below which the next inference starts; ``fixed`` overrides the rule."""

    fps: float
    fixed: int | None = None
    margin_fraction: float = 1.0
    margin_ms: float = 100.0

    @property
    def mode(self) -> str:
        return "fixed" if self.fixed is not None else "latency"

    def margin(self, delay_ticks: int) -> int:
        """Ticks of slack on top of the delay estimate (automatic rule only)."""
        floor = math.ceil(self.margin_ms * self.fps / 1000.0 - 1e-9)
        return max(floor, math.ceil(self.margin_fraction * delay_ticks - 1e-9))

    def threshold(self, delay_ticks: int) -> int:
        """The threshold in force for the current delay estimate (``fixed`` when given)."""
        if self.fixed is not None:
            return self.fixed
        delay = max(0, int(delay_ticks))
        return delay + self.margin(delay)

    @staticmethod
    def keeps_up(delay_ticks: int, chunk_len: int) -> bool:
        """Whether what is left of a chunk when it arrives covers the next inference (else the queue runs
        dry whatever the trigger)."""
        return chunk_len <= 0 or 2 * delay_ticks <= chunk_len
