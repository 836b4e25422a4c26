"""Crash trials: kill -9 the console at random moments while sentry records; check every saved episode.

    python scripts/crash_trials.py --trials 50 [--seed 1] [--keep DIR]

Each trial starts the real `rollout-console` (sentry, short episodes, h264), waits a random time,
notes the episodes the API reported as saved (an episode is listed only once it is durable), sends
SIGKILL, then checks that (1) every one of those episodes is still in the dataset, unchanged, and the
dataset decodes and verifies, and (2) a restart with --resume=true recovers the dataset and records on.
Exit status 0 when every trial passed. tests/integration/test_crash.py runs 20 trials.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO))

from rollout_console.recording import verify_dataset  # noqa: E402
from rollout_console.recording.recovery import recover  # noqa: E402

from faults.common import committed as _committed  # noqa: E402
from faults.common import free_port as _free_port  # noqa: E402


def _flags(root: Path, port: int, resume: bool) -> list[str]:
    return [sys.executable, "-m", "rollout_console", f"--server.port={port}", "--server.log_level=error",
            "--robot.camera_width=160", "--robot.camera_height=120", "--strategy.type=sentry",
            "--strategy.episode_time_s=0.5", "--dataset.repo_id=crash/sentry", f"--dataset.root={root}",
            "--dataset.vcodec=h264", "--dataset.stamp_repo_id=false", "--dataset.push_to_hub=false",
            f"--resume={'true' if resume else 'false'}"]


def _start(root: Path, resume: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(_flags(root, port, resume), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"console exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("console did not start")


def _saved(url: str) -> dict[int, int]:
    try:
        return {e["index"]: e["length"] for e in httpx.get(url + "/api/v1/episodes", timeout=2).json()["data"]}
    except (httpx.HTTPError, ValueError):
        return {}


def trial(root: Path, rng: random.Random, resume: bool) -> str | None:
    """One kill; returns a failure description or None."""
    proc, url = _start(root, resume)
    known: dict[int, int] = {}
    kill_at = time.monotonic() + rng.uniform(0.8, 3.5)
    while time.monotonic() < kill_at:  # poll until the kill moment, so saves race with the kill
        known.update(_saved(url))
        time.sleep(rng.uniform(0.02, 0.15))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if not (root / "meta" / "info.json").exists():
        return None if not known else f"killed before the dataset existed, yet {known} were reported saved"
    committed = _committed(root)
    lost = {index: length for index, length in known.items() if committed.get(index) != length}
    if lost:
        return f"acknowledged episodes lost or changed: {lost} (committed: {committed})"
    recover(root, {"outcome": "string"})  # what the next start does: drop the interrupted episode
    report = verify_dataset(root)
    if not report.ok:
        return f"dataset invalid after recovery: {report.errors[:3]}"
    after = _committed(root)
    if any(after.get(index) != length for index, length in known.items()):
        return f"recovery dropped acknowledged episodes: known {known}, after {after}"
    return None


def run(trials: int, seed: int, keep: Path | None) -> int:
    rng = random.Random(seed)
    base = keep or Path(tempfile.mkdtemp(prefix="crash-trials-"))
    root = base / "dataset"
    failures = []
    for number in range(trials):
        failure = trial(root, rng, resume=(root / "meta" / "info.json").exists())
        status = "ok" if failure is None else f"FAILED: {failure}"
        print(f"trial {number + 1}/{trials}: {status} ({len(_committed(root))} episodes committed)", flush=True)
        if failure:
            failures.append(failure)
    proc, url = _start(root, resume=True)  # the crashed dataset reopens and records on
    try:
        before = len(_saved(url))
        deadline = time.monotonic() + 120  # generous: a loaded machine starts and records slowly
        while len(_saved(url)) <= before and time.monotonic() < deadline:
            time.sleep(0.1)
        if len(_saved(url)) <= before:
            failures.append("after the crashes, a resumed session did not record new episodes")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    final = verify_dataset(root)
    if not final.ok:
        failures.append(f"final dataset does not verify: {final}")
    print(f"{trials} trials, {len(failures)} failures; dataset at {root}: {final.episodes} episodes")
    for failure in failures:
        print(f"  failure: {failure}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="directory to keep the dataset in")
    args = parser.parse_args(argv)
    return run(args.trials, args.seed, args.keep)


if __name__ == "__main__":
    raise SystemExit(main())
