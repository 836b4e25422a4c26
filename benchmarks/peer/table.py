"""The peer table: one column per program, one row per figure, each cell the range over the runs, and the
console/incumbent ratios (of the run means)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .runners import RunResult

__all__ = ["COLUMNS", "ROWS", "cell", "render"]

COLUMNS = (("lerobot", "sync", "LeRobot 0.6.1 lerobot-rollout (sync)"), ("console", "sync", "console, sync"),
           ("console", "async", "console, async (rtc, guidance off)"))

Row = tuple[str, str, Sequence[str], int]  # label, strategy, figure names (shown a / b), digits
ROWS: tuple[Row, ...] = (
    ("base: command rate (Hz)", "base", ("command_hz",), 1),
    ("base: \\|dt - period\\| p99 / max (ms)", "base", ("jitter_p99_ms", "jitter_max_ms"), 1),
    ("sentry: command rate (Hz)", "sentry", ("command_hz",), 1),
    ("sentry: \\|dt - period\\| p99 / max (ms)", "sentry", ("jitter_p99_ms", "jitter_max_ms"), 1),
    ("sentry: loop gap after an episode save (ms)", "sentry", ("save_gap_ms",), 0),
    ("sentry: frames dropped", "sentry", ("dropped",), 0),
    ("sentry: episodes cut (encoder backlog)", "sentry", ("cuts",), 0),
    ("sentry: starved ticks (hold sent, no fresh action)", "sentry", ("starved",), 0),
    ("sentry: rows per wall second", "sentry", ("rows_per_s",), 1),
    ("sentry: pauses the console made on its own", "sentry", ("pauses",), 0),
    ("sentry: inference latency p50 / p95 (ms)", "sentry", ("latency_p50_ms", "latency_p95_ms"), 0),
)

def _values(results: Sequence[RunResult], program: str, inference: str, strategy: str, name: str) -> list[float]:
    picked = [r for r in results if (r.spec.program, r.spec.inference, r.spec.strategy) == (program, inference, strategy)]
    values = [r.figure(name) for r in picked]
    return [float(v) for v in values if v is not None and not math.isnan(float(v))]

def _span(values: list[float], digits: int) -> str:
    if not values:
        return "-"
    low, high = min(values), max(values)
    return f"{low:.{digits}f}" if round(low, digits) == round(high, digits) else f"{low:.{digits}f}-{high:.{digits}f}"

def cell(results: Sequence[RunResult], program: str, inference: str, row: Row, fps: float) -> str:
    _, strategy, names, digits = row
    text = " / ".join(_span(_values(results, program, inference, strategy, n), digits) for n in names)
    if names == ("rows_per_s",):
        rows = _values(results, program, inference, strategy, "rows_per_s")
        if rows and min(rows) > 0:
            text += f" (x{fps / max(rows):.2f}" + ("" if len(rows) == 1 else f"-{fps / min(rows):.2f}") + ")"
    if set(text.replace(" / ", "")) <= {"-"}:
        return "—"
    paused = _values(results, program, inference, strategy, "pauses")
    if names != ("pauses",) and any(paused):  # after a pause the console holds the arm: not policy figures
        text += f" [{sum(v > 0 for v in paused)} run(s) paused]"
    return text

def ratio(results: Sequence[RunResult], inference: str, row: Row) -> str:
    """console (sync or async) / lerobot-rollout, of the run means of the row's first figure."""
    _, strategy, names, _ = row
    mine = _values(results, "console", inference, strategy, names[0])
    theirs = _values(results, "lerobot", "sync", strategy, names[0])
    if not mine or not theirs or sum(theirs) == 0:
        return "—"
    return f"x{(sum(mine) / len(mine)) / (sum(theirs) / len(theirs)):.2f}"

def render(results: Sequence[RunResult], fps: float) -> str:
    head = ["", *(title for _, _, title in COLUMNS), "console sync / LeRobot", "console async / LeRobot"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in ROWS:
        cells = [cell(results, program, inference, row, fps) for program, inference, _ in COLUMNS]
        lines.append("| " + " | ".join([row[0], *cells, ratio(results, "sync", row), ratio(results, "async", row)]) + " |")
    return "\n".join(lines)
