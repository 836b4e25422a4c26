"""What the robot's command trace says: command rate, period jitter, and the loop gap after episode saves.

The trace is the peer arm's own record (``peer_arm.PeerArm.trace``): the monotonic time of every
``send_action``, so both programs are timed by the same stopwatch at the same place (the robot), not by
their own reports. Pure numpy: runs in either environment.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TraceFigures", "analyze", "load_trace"]

GAP_WINDOW_S = 1.0
"""A save's gap is the longest command interval from the save's start to this long after it ended."""


@dataclass
class TraceFigures:
    commands: int
    span_s: float
    command_hz: float
    jitter_p99_ms: float  # |dt - period| over consecutive commands
    jitter_max_ms: float
    interval_max_ms: float
    save_gaps_ms: list[float]  # one per save that falls inside the trace

    @property
    def save_gap_max_ms(self) -> float:
        return max(self.save_gaps_ms) if self.save_gaps_ms else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "save_gap_max_ms": self.save_gap_max_ms}


def load_trace(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def analyze(sends: Sequence[float] | np.ndarray, fps: float, saves: Sequence[tuple[float, float]] = ()) -> TraceFigures:
    """Figures of one run; ``saves`` are (start, end) monotonic times of episode saves (end = start when a
    save does not hold the loop, as the console's)."""
    times = np.sort(np.asarray(sends, dtype=np.float64))
    if len(times) < 2:
        raise ValueError(f"the trace holds {len(times)} command(s): the program never drove the robot")
    period = 1.0 / fps
    intervals = np.diff(times)
    deviation = np.abs(intervals - period) * 1000.0
    span = float(times[-1] - times[0])
    gaps = []
    for start, end in saves:
        later = (times[1:] >= start) & (times[1:] <= end + GAP_WINDOW_S)
        if times[0] <= start <= times[-1] and later.any():
            # the interval that spans the save's start counts too: the loop may have stopped just before it
            first = max(int(np.argmax(later)) - 1, 0)
            last = len(later) - int(np.argmax(later[::-1]))
            gaps.append(float(intervals[first:last].max() * 1000.0))
    return TraceFigures(
        commands=len(times), span_s=span, command_hz=(len(times) - 1) / span if span > 0 else float("nan"),
        jitter_p99_ms=float(np.percentile(deviation, 99)), jitter_max_ms=float(deviation.max()),
        interval_max_ms=float(intervals.max() * 1000.0), save_gaps_ms=gaps,
    )
