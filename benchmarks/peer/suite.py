"""``make bench`` suite ``peer``: LeRobot's ``lerobot-rollout`` and the console side by side (issue 16 item 7).

Same robot (the peer arm, a LeRobot robot plugin in ``benchmarks/peer``, timed by its own command trace),
same random-weight ACT checkpoint (LeRobot defaults, 2 cameras 480x640, chunk 50), 30 fps, from the
LeRobot environment (``.venv-lerobot``): lerobot-rollout sync, console sync, console async (rtc, guidance
off), each with strategies base and sentry (sentry records both cameras), ``--seconds`` each (60; quick:
20), ``--runs`` rounds (2; quick: 1), interleaved so every program sees the same machine load. Prints the
checkpoint's latency per chunk, the load, every run's figures, then the table with console/incumbent ratios.

    python -m benchmarks peer [--quick]
    python -m benchmarks.peer.suite [--seconds=60] [--runs=2] [--only=console] [--strategies=base,sentry]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence

import numpy as np

from .runners import FPS, MISSING, WORK, RunResult, RunSpec, lerobot_python, prepare, run
from .table import COLUMNS, render

__all__ = ["main", "specs"]


def specs(seconds: float, strategies: Sequence[str], programs: Sequence[str]) -> list[RunSpec]:
    return [RunSpec(program, strategy, inference, seconds, FPS)
            for strategy in strategies for program, inference, _ in COLUMNS if program in programs]


def _line(result: RunResult) -> str:
    if result.trace is None:
        return f"  {result.spec.label:<28} FAILED: {(result.error or '').strip()[-1500:]}"
    t = result.trace
    parts = [f"{t.command_hz:5.1f} Hz", f"|dt-T| p99 {t.jitter_p99_ms:6.1f} max {t.jitter_max_ms:6.1f} ms",
             f"{t.commands} commands in {t.span_s:.1f} s"]
    if result.spec.strategy == "sentry":
        gaps = ", ".join(f"{g:.0f}" for g in t.save_gaps_ms) or "-"
        parts.append(f"gaps after saves [{gaps}] ms, rows {result.rows}")
    for name in ("dropped", "cuts", "starved", "latency_p50_ms", "latency_p95_ms"):
        value = result.figure(name)
        if value is not None:
            parts.append(f"{name} {value:.0f}")
    parts += [f"PAUSED ({notice}; the console held the arm from then on)" for notice in result.notices()]
    if result.error:
        parts.append(f"(error: {result.error.strip()[:300]})")
    return f"  {result.spec.label:<28} " + ", ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer.suite", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of 20 s runs")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--strategies", default="base,sentry")
    parser.add_argument("--only", default="lerobot,console", help="programs to run: lerobot, console")
    args = parser.parse_args(list(argv or []))
    if args.quick:
        args.seconds, args.runs = min(args.seconds, 20.0), 1
    print("\n== peer: LeRobot 0.6.1 lerobot-rollout vs the console, same plugin arm and ACT checkpoint", flush=True)
    python = lerobot_python()
    if python is None:
        print(f"  peer {MISSING}", flush=True)
        return 0
    load_before = os.getloadavg()
    setup = prepare(python, measure=5)
    latency = np.asarray(setup.latency_s) * 1000
    print(f"  ACT (random weights, 2 cameras 480x640, chunk 50) latency per chunk: p50 {np.median(latency):.0f} ms, "
          f"min {latency.min():.0f}, max {latency.max():.0f} ms over {len(latency)} chunks; {os.cpu_count()} CPUs, "
          f"load average {load_before[0]:.2f}", flush=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    results: list[RunResult] = []
    plan = specs(args.seconds, args.strategies.split(","), args.only.split(","))
    for round_index in range(args.runs):
        for spec in plan:
            run_dir = WORK / f"peer-{stamp}-r{round_index}-{spec.program}-{spec.inference}-{spec.strategy}"
            result = run(setup, spec, run_dir)
            results.append(result)
            print(_line(result), flush=True)
    print(f"\n  {args.runs} run(s) of {args.seconds:g} s each at {FPS:g} fps; load average now "
          f"{os.getloadavg()[0]:.2f} (was {load_before[0]:.2f}); files in {WORK}\n", flush=True)
    print(render(results, FPS), flush=True)
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
