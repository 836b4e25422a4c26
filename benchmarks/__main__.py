"""`make bench`: run every benchmark (or those named) and print their figures."""

from __future__ import annotations

import argparse
import importlib
import time

SUITES = {
    "loop_preview": "benchmarks.loop_preview",
    "recording": "benchmarks.recording",
    "recording_threads": "benchmarks.recording_threads",
    "inference": "benchmarks.inference",
    "hil": "benchmarks.hil",
    "remote": "benchmarks.remote",
    "evaluation": "benchmarks.evaluation",
    "fast_loop": "benchmarks.fast_loop",
}


def main() -> None:
    parser = argparse.ArgumentParser(description="rollout-console benchmarks")
    parser.add_argument("names", nargs="*", help=f"which to run (default: all): {', '.join(SUITES)}")
    parser.add_argument("--quick", action="store_true", help="shorter runs (rougher figures)")
    args = parser.parse_args()
    names = args.names or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(SUITES)}")
    for name in names:
        started = time.monotonic()
        module = importlib.import_module(SUITES[name])
        module.main(["--quick"] if args.quick else [])
        print(f"  ({name} took {time.monotonic() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
