"""`make bench`: run every benchmark (or those named) and print their figures."""

from __future__ import annotations

import argparse
import importlib
import sys
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
    "peer": "benchmarks.peer.suite",
    "heavy": "benchmarks.heavy",
}
TAKES_FLAGS = {"heavy"}  # suites that take console flags after "--"


def main() -> None:
    argv = sys.argv[1:]
    extra: list[str] = []  # after "--": console flags for the suites in TAKES_FLAGS
    if "--" in argv:
        argv, extra = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    parser = argparse.ArgumentParser(description="rollout-console benchmarks",
                                     epilog="flags after -- go to the console of the heavy suite: heavy -- --policy.torch_threads=1")
    parser.add_argument("names", nargs="*", help=f"which to run (default: all): {', '.join(SUITES)}")
    parser.add_argument("--quick", action="store_true", help="shorter runs (rougher figures)")
    args = parser.parse_args(argv)
    names = args.names or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {', '.join(SUITES)}")
    if extra and not TAKES_FLAGS & set(names):
        parser.error(f"flags after -- need one of {', '.join(sorted(TAKES_FLAGS))} named")
    for name in names:
        started = time.monotonic()
        module = importlib.import_module(SUITES[name])
        flags = ["--quick"] if args.quick else []
        module.main(flags + (["--", *extra] if extra and name in TAKES_FLAGS else []))
        print(f"  ({name} took {time.monotonic() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
