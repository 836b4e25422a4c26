"""`make faults`: the long fault suite, with figures.

    python -m faults [--trials 20] [--overload-s 600] [--seed 1] [--keep DIR] [names...]

Names: signals, disk, encoder, lease, stale, overload (default: all). Exit status 0 when every
scenario held.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from . import overload, scenarios, signals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", default=[], help="scenarios to run (default: all)")
    parser.add_argument("--trials", type=int, default=20, help="SIGTERM and SIGINT trials each (and kill trials)")
    parser.add_argument("--overload-s", type=float, default=600.0, help="length of the overload run")
    parser.add_argument("--hogs", type=int, default=2, help="CPU-bound processes beside the console in overload")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="keep the datasets in this directory")
    args = parser.parse_args(argv)
    known = ("signals", "disk", "encoder", "lease", "stale", "overload")
    names = args.names or list(known)
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; known: {', '.join(known)}")
    base = args.keep or Path(tempfile.mkdtemp(prefix="faults-"))
    base.mkdir(parents=True, exist_ok=True)
    ok = True
    print(f"fault suite: datasets under {base}", flush=True)
    try:
        for name in names:
            started = time.monotonic()
            if name == "signals":
                results = signals.run(base / "signals", args.trials, args.seed)
                for figures in results:
                    print("  " + figures.line(), flush=True)
                    for failure in figures.failures[:5]:
                        print(f"    FAILED: {failure}", flush=True)
                    ok &= not figures.failures
            elif name == "overload":
                figures = overload.run(base, args.overload_s, hogs=args.hogs)
                print("  " + figures.line(), flush=True)
                ok &= figures.passed
            else:
                scenario = {"disk": scenarios.disk_full, "encoder": scenarios.encoder_failure,
                            "lease": scenarios.lease_lapse, "stale": scenarios.stale_camera}[name]
                result = scenario(base)
                print("  " + result.line(), flush=True)
                ok &= result.passed
            print(f"  ({name} took {time.monotonic() - started:.0f} s)", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    print("fault suite: " + ("every scenario held" if ok else "FAILURES above"), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
