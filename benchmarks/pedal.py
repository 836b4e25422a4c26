"""Pedal latency: key-down pushed into a memory device -> ``submit`` called on the pedal's thread.

Real ``evdev.InputEvent`` objects go through ``FootPedal``'s reader thread exactly as in production (only the
kernel read is replaced by ``MemoryPedalDevice``). Each press is timed from ``push`` to the moment the
injected ``submit`` is entered. Runs three load cases:

* ``idle``: nothing else runs.
* ``loop``: a 30 Hz "control loop" thread doing ~8 ms of numpy work per tick (GIL released in part).
* ``python``: a pure-Python thread spinning constantly (worst case for the GIL), with the 0.5 ms switch
  interval the session sets.

Usage: ``python benchmarks/pedal.py [--presses 300] [--interval-ms 20] [--cases idle,loop,python] [--json]``.
The end-to-end pedal -> phase change figure needs a Session; see the integration benchmark.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
from evdev import ecodes
from rollout_console.config.inputs import PedalConfig
from rollout_console.inputs import FootPedal, MemoryPedalDevice, MemoryPedalOpener
from rollout_console.protocol.commands import CommandResult
from rollout_console.protocol.phases import Phase


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _load(kind: str, stop: threading.Event) -> threading.Thread | None:
    if kind == "idle":
        return None
    if kind == "loop":
        a = np.random.default_rng(0).standard_normal((256, 256))

        def loop() -> None:
            deadline = time.perf_counter()
            while not stop.is_set():
                work_until = time.perf_counter() + 0.008
                while time.perf_counter() < work_until:
                    a @ a
                    sum(range(200))  # and some that holds it
                deadline += 1 / 30
                time.sleep(max(0.0, deadline - time.perf_counter()))

        target: Callable[[], None] = loop
    elif kind == "python":

        def spin() -> None:
            x = 0
            while not stop.is_set():
                x += 1

        target = spin
    else:
        raise SystemExit(f"unknown case {kind!r}")
    thread = threading.Thread(target=target, daemon=True, name=f"load-{kind}")
    thread.start()
    return thread


def run_case(kind: str, presses: int, interval_s: float) -> dict[str, float]:
    phase = [Phase.AUTONOMOUS]
    entered: list[float] = []
    done = threading.Event()

    def submit(name: str, source: str = "pedal") -> CommandResult:
        entered.append(time.perf_counter())
        phase[0] = Phase.PAUSED if name == "pause" else Phase.AUTONOMOUS
        if len(entered) >= presses:
            done.set()
        return CommandResult(True, phase[0])

    opener = MemoryPedalOpener()
    device = opener.plug(MemoryPedalDevice())
    pedal = FootPedal(PedalConfig(enabled=True), submit, lambda: phase[0], opener=opener)
    stop_load = threading.Event()
    previous_switch = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    load = _load(kind, stop_load)
    pushed: list[float] = []
    try:
        pedal.start()
        if not opener.opened.wait(5.0):
            raise SystemExit("the pedal thread did not open the memory device")
        time.sleep(0.1)
        for _ in range(presses):
            seq = device.push(ecodes.KEY_A, 1)
            pushed.append(device.pushed_at[seq])
            device.push(ecodes.KEY_A, 0)
            time.sleep(interval_s)
        if not done.wait(10.0):
            raise SystemExit(f"only {len(entered)} of {presses} presses reached submit")
    finally:
        pedal.stop()
        stop_load.set()
        if load is not None:
            load.join(2.0)
        sys.setswitchinterval(previous_switch)
    latencies = [(e - p) * 1000.0 for p, e in zip(pushed, entered, strict=True)]
    counts = pedal.status()["counts"]
    if counts["accepted"] != presses or counts["presses"] != presses:
        raise SystemExit(f"pedal counts disagree: {counts}")
    return {
        "case": kind,
        "presses": presses,
        "p50_ms": round(statistics.median(latencies), 3),
        "p90_ms": round(_percentile(latencies, 90), 3),
        "p99_ms": round(_percentile(latencies, 99), 3),
        "max_ms": round(max(latencies), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--interval-ms", type=float, default=20.0, help="time between presses")
    parser.add_argument("--cases", default="idle,loop,python")
    parser.add_argument("--json", action="store_true", help="print one JSON object per case")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    results = [run_case(kind, args.presses, args.interval_ms / 1000.0) for kind in args.cases.split(",")]
    if args.json:
        for result in results:
            print(json.dumps(result))
        return 0
    print(f"pedal key-down -> submit entered ({args.presses} presses, {args.interval_ms:g} ms apart)")
    print(f"{'case':<8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for r in results:
        print(
            f"{r['case']:<8} {r['p50_ms']:>8.3f} {r['p90_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['max_ms']:>8.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
