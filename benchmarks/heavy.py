"""The heavy-policy scenario of issue 16 item 1: can the console hold the rate with a real policy while recording?

The console on the peer arm (a LeRobot robot plugin, ``benchmarks/peer``) with a random-weight ACT
(LeRobot defaults, 2 cameras 480x640, chunk 50), asynchronous inference (``--inference.type=rtc
--inference.rtc.guidance=false``), the sentry strategy recording both cameras, 30 fps; run from the
LeRobot environment (``.venv-lerobot``). For each run it prints the command rate and |dt - period|
p99/max (from the robot's own command trace), frames dropped, episodes cut, starved ticks, rows per wall
second (from the dataset), inference latency p50/p95, the encoder backlog max, and the CPU-budget values
in force (every status field about threads, presets, nice, priorities), then whether the target held:
30 Hz, 0 dropped frames, 0 starved ticks, rows per wall second = fps.

    python -m benchmarks heavy [--quick] [-- CONSOLE_FLAGS...]
    python -m benchmarks.heavy [--seconds=60] [--runs=2] [-- --policy.torch_threads=1 ...]

Without flags it runs the defaults (everything chosen by the CPU budget), then with cheaper video
(``CHEAP_VIDEO``, what the budget advises on a machine that cannot keep up). Flags after ``--`` go to the
console unchanged instead (to try CPU-budget settings). From code:
``run_heavy(seconds=60, runs=2, console_flags=[...])`` returns the results.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence

from .peer.runners import (
    MISSING,
    WORK,
    RunResult,
    RunSpec,
    Setup,
    budget_values,
    lerobot_python,
    prepare,
    run,
)

__all__ = ["main", "met", "run_heavy"]

CHEAP_VIDEO = ("--dataset.vcodec=h264", "--dataset.preset=ultrafast")
"""The budget's advice when the machine cannot keep up: run without flags, the suite also runs with these
(the rest still chosen by the budget), to show what following the advice gives."""


def run_heavy(seconds: float = 60.0, runs: int = 2, console_flags: Sequence[str] = (), setup: Setup | None = None,
              fps: float = 30.0) -> list[RunResult]:
    """``runs`` consecutive heavy-scenario runs of ``seconds`` each; raises RuntimeError without .venv-lerobot."""
    if setup is None:
        python = lerobot_python()
        if python is None:
            raise RuntimeError(MISSING)
        setup = prepare(python, measure=0)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    spec = RunSpec("console", "sentry", "async", seconds, fps, tuple(console_flags))
    return [run(setup, spec, WORK / f"heavy-{stamp}-{i}") for i in range(runs)]


def met(result: RunResult) -> dict[str, bool]:
    """The item-1 targets, each true or false for one run (a missing figure is not met)."""
    fps = result.spec.fps

    def ok(name: str, test: object) -> bool:
        value = result.figure(name)
        return value is not None and not math.isnan(value) and bool(test(value))  # type: ignore[operator]

    return {
        "rate": ok("command_hz", lambda v: v >= 0.99 * fps),
        "dropped": ok("dropped", lambda v: v == 0),
        "starved": ok("starved", lambda v: v == 0),
        "rows_per_s": ok("rows_per_s", lambda v: abs(v - fps) <= 0.01 * fps),
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def report(result: RunResult, index: int) -> None:
    f = result.figure
    print(f"  run {index + 1}: {result.spec.seconds:g} s, flags {' '.join(result.spec.extra) or '(none)'}; "
          f"files in {result.run_dir}", flush=True)
    if result.error:
        print(f"    ERROR: {result.error.strip()}", flush=True)
    if result.trace is None:
        return
    print(f"    command rate {_fmt(f('command_hz'), 2)} Hz ({result.trace.commands} commands in "
          f"{result.trace.span_s:.1f} s); |dt - period| p99 {_fmt(f('jitter_p99_ms'))} ms, "
          f"max {_fmt(f('jitter_max_ms'))} ms", flush=True)
    print(f"    frames dropped {_fmt(f('dropped'), 0)}, episodes cut {_fmt(f('cuts'), 0)}, starved ticks "
          f"{_fmt(f('starved'), 0)}, rows per wall second {_fmt(f('rows_per_s'), 2)} ({result.rows} rows), "
          f"loop gap after saves max {_fmt(f('save_gap_ms'))} ms", flush=True)
    print(f"    inference latency p50 {_fmt(f('latency_p50_ms'), 0)} ms, p95 {_fmt(f('latency_p95_ms'), 0)} ms; "
          f"encoder backlog max {_fmt(f('backlog_max_s'), 2)} s", flush=True)
    for notice in result.notices():
        print(f"    the console paused on its own: {notice}", flush=True)
    print(f"    CPU budget in force: {json.dumps(budget_values(result.status)) or '{}'}", flush=True)
    budget = result.status.get("cpu_budget") or {}
    for note in budget.get("adaptations") or []:
        print(f"    the budget adapted: {note}", flush=True)
    if budget.get("advice"):
        print(f"    the budget's advice (fits {budget.get('fits')}): {budget['advice']}", flush=True)
    targets = met(result)
    verdict = "held" if all(targets.values()) else "NOT held: " + ", ".join(k for k, v in targets.items() if not v)
    print(f"    target (30 Hz, 0 dropped, 0 starved, rows/s = fps): {verdict}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(argv or [])
    console_flags: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, console_flags = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heavy", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run of 20 s")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.runs = min(args.seconds, 20.0), 1
    print("\n== heavy policy: console, async ACT (rtc, guidance off), sentry, 2 cameras 480x640, 30 fps", flush=True)
    python = lerobot_python()
    if python is None:
        print(f"  heavy {MISSING}", flush=True)
        return 0
    setup = prepare(python, measure=0)
    variants = [console_flags] if console_flags else [[], list(CHEAP_VIDEO)]
    errors = 0
    for flags in variants:
        print(f"  -- {'defaults (the CPU budget decides)' if not flags else ' '.join(flags)}", flush=True)
        results = run_heavy(args.seconds, args.runs, flags, setup)
        for index, result in enumerate(results):
            report(result, index)
        errors += sum(r.error is not None for r in results)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
