"""How a new chunk takes over from the current one, and which actions are too late to send.

``blend`` is the seam treatment for unguided chunks (naive asynchronous inference, remote servers
without the RTC extension): over the rows where the old plan and the new chunk overlap in time, the
old plan fades out linearly over ``rows`` rows. A guided (inpainted) chunk already agrees with the
old plan there, so ``switch`` suffices for it.

Lateness: row ``i`` of a chunk requested at time ``t0`` (the observation's tick) is due at
``t0 + i / fps``. An action whose due time is more than ``max_age_s`` in the past is never sent:
rows whose time passed (a reply that arrived after the queue ran dry, a tick that came late) are
skipped instead.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["SPLICE_MODES", "blend_overlap", "first_timely_row"]

SPLICE_MODES = ("switch", "blend")


def blend_overlap(new: np.ndarray, start: int, old_rest: np.ndarray, rows: int) -> np.ndarray:
    """``new`` with rows ``start..`` crossfaded from ``old_rest`` (the old plan for the same ticks).

    Weight of the old plan at overlap row m: (rows - m) / (rows + 1) for m < rows, then 0; the
    overlap ends where either plan ends. Returns a copy; ``new`` is untouched.
    """
    out = np.array(new, dtype=np.float32, copy=True)
    overlap = min(len(old_rest), len(out) - start, rows)
    if overlap <= 0:
        return out
    weights = ((rows - np.arange(overlap)) / (rows + 1.0)).astype(np.float32)[:, None]
    segment = slice(start, start + overlap)
    out[segment] = weights * old_rest[:overlap] + (1.0 - weights) * out[segment]
    return out


def first_timely_row(index: int, origin: float, now: float, fps: float, max_age_s: float | None) -> int:
    """The first row at or after ``index`` that is not later than ``max_age_s`` for its tick."""
    if max_age_s is None:
        return index
    late_rows = (now - origin - max_age_s) * fps  # rows due before now - max_age are late
    earliest = math.ceil(late_rows) if late_rows > 0 else 0
    return max(index, earliest)
