"""What a loop that cannot hold its rate means for the operator and the dataset.

Rows are recorded once per frame period and stamped ``frame_index / fps``; when the loop runs slower than its
target (typically synchronous inference stalling it at every chunk), each row covers more wall time than
its stamp says, and the episode replays faster than it happened by ``target / measured``. Status carries
that ratio and, below ``SLOW_FRACTION`` of the target, a sentence saying what to change.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SLOW_FRACTION", "rate_figures"]

SLOW_FRACTION = 0.95
"""Below this fraction of its target rate the loop is reported as not holding it."""


def rate_figures(measured_hz: float | None, target_hz: float, engine: str, records: bool) -> dict[str, Any]:
    """``target_hz``, ``time_compression`` (target / measured; None before a measurement) and ``advice``
    (None while the rate holds)."""
    if measured_hz is None or measured_hz <= 0 or target_hz <= 0:
        return {"target_hz": target_hz, "time_compression": None, "advice": None}
    compression = target_hz / measured_hz
    advice = None
    if measured_hz < SLOW_FRACTION * target_hz:
        parts = [f"the loop runs at {measured_hz:.1f} Hz instead of {target_hz:g} Hz"]
        if records:
            parts.append(f"recorded episodes replay {compression:.2f}x faster than they happened")
        if engine == "sync":
            parts.append("synchronous inference stalls the loop at every chunk: use --inference.type=rtc "
                         "(asynchronous) to hold the rate")
        else:
            parts.append("the computer is overloaded: see the loop and inference figures")
        advice = "; ".join(parts)
    return {"target_hz": target_hz, "time_compression": round(compression, 3), "advice": advice}
