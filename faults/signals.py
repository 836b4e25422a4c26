"""Signals during sentry recording: SIGTERM and SIGINT stop gracefully, SIGKILL and a double signal lose
nothing that was acknowledged.

A graceful trial (SIGTERM or SIGINT) passes when the process exits 0, the page saw ``stopping``, every
episode the API had listed is in the dataset unchanged, and the dataset verifies *without* repair with
an empty staging area. A hard trial (SIGKILL, or a second signal during the graceful stop) passes when
every acknowledged episode survives and the dataset verifies after the recovery the next start runs.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .common import console, lost, percentile, sentry_flags, staging_leftovers

GRACEFUL = (signal.SIGTERM, signal.SIGINT)


@dataclass
class SignalFigures:
    """What a series of trials with one kind of signal measured."""

    name: str
    trials: int = 0
    failures: list[str] = field(default_factory=list)
    acknowledged: int = 0
    lost: int = 0
    verified: int = 0
    exit_codes: list[int] = field(default_factory=list)
    stop_s: list[float] = field(default_factory=list)

    def line(self) -> str:
        p50, worst = percentile(self.stop_s, 50), max(self.stop_s, default=None)
        timing = "" if p50 is None else f", signal -> exit p50 {p50:.2f} s / max {worst:.2f} s"
        codes = sorted(set(self.exit_codes))
        return (f"{self.name}: {self.trials} trials, {len(self.failures)} failed; {self.acknowledged} episodes "
                f"acknowledged, {self.lost} lost; {self.verified}/{self.trials} datasets verified; exit codes "
                f"{codes}{timing}")


def _watch(root: Path, seconds: float, con, rng: random.Random) -> dict[int, int]:  # type: ignore[no-untyped-def]
    known: dict[int, int] = {}
    until = time.monotonic() + seconds
    while time.monotonic() < until:  # poll until the signal moment, so saves race with it
        known.update(con.acknowledged())
        time.sleep(rng.uniform(0.02, 0.15))
    return known


def graceful_trial(root: Path, sig: signal.Signals, rng: random.Random, figures: SignalFigures) -> None:
    """One SIGTERM or SIGINT while recording; see the module docstring for what must hold."""
    from rollout_console.recording import verify_dataset

    figures.trials += 1
    with console(sentry_flags(root, "--return_duration_s=0.3")) as con:
        known = _watch(root, rng.uniform(1.0, 3.0), con, rng)
        phases: set[str] = set()
        sent = time.monotonic()
        con.proc.send_signal(sig)
        while con.proc.poll() is None and time.monotonic() - sent < 180:
            status = con.status()
            if status:
                phases.add(status["phase"])
                known.update(con.acknowledged())
            time.sleep(0.02)
        if con.proc.poll() is None:
            figures.failures.append(f"{sig.name}: the console did not exit within 180 s")
            return
        figures.stop_s.append(time.monotonic() - sent)
        code = con.proc.returncode
    figures.exit_codes.append(code)
    figures.acknowledged += len(known)
    missing = lost(known, root)
    figures.lost += len(missing)
    report = verify_dataset(root)
    leftovers = staging_leftovers(root)
    if report.ok and not leftovers:
        figures.verified += 1
    problems = []
    if code != 0:
        problems.append(f"exit status {code}")
    if missing:
        problems.append(f"acknowledged episodes lost: {missing}")
    if not report.ok:
        problems.append(f"dataset does not verify without repair: {report.errors[:3]}")
    if leftovers:
        problems.append(f"staging not empty: {leftovers[:5]}")
    if "stopping" not in phases and "stopped" not in phases:
        problems.append(f"the API never showed the stop (phases seen: {sorted(phases)})")
    if problems:
        figures.failures.append(f"{sig.name}: " + "; ".join(problems))


def hard_trial(root: Path, rng: random.Random, figures: SignalFigures, double: bool) -> None:
    """SIGKILL (or SIGTERM twice) at a random moment: nothing acknowledged may be lost."""
    from rollout_console.recording import verify_dataset
    from rollout_console.recording.recovery import recover

    figures.trials += 1
    with console(sentry_flags(root)) as con:
        known = _watch(root, rng.uniform(0.8, 3.0), con, rng)
        sent = time.monotonic()
        if double:
            con.proc.send_signal(signal.SIGTERM)
            time.sleep(rng.uniform(0.0, 0.3))
            if con.proc.poll() is None:
                con.proc.send_signal(signal.SIGTERM)
        else:
            con.proc.send_signal(signal.SIGKILL)
        try:
            con.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            figures.failures.append(f"{figures.name}: the console did not exit within 60 s")
            con.proc.kill()
            con.proc.wait()
            return
        figures.stop_s.append(time.monotonic() - sent)
        figures.exit_codes.append(con.proc.returncode)
    figures.acknowledged += len(known)
    if not (root / "meta" / "info.json").exists():
        if known:
            figures.failures.append(f"{figures.name}: no dataset, yet {known} were acknowledged")
        else:
            figures.verified += 1
        return
    missing = lost(known, root)
    figures.lost += len(missing)
    recover(root, {"outcome": "string"})  # what the next start does
    report = verify_dataset(root)
    if report.ok and not lost(known, root):
        figures.verified += 1
    if missing or not report.ok:
        figures.failures.append(f"{figures.name}: lost {missing}; verify after recovery: {report.errors[:3]}")


def run(base: Path, trials: int, seed: int, kill_trials: int | None = None) -> list[SignalFigures]:
    """``trials`` SIGTERM and SIGINT trials (each on a fresh dataset), then SIGKILL and double-signal ones."""
    rng = random.Random(seed)
    results = []
    for sig in GRACEFUL:
        figures = SignalFigures(sig.name)
        for n in range(trials):
            graceful_trial(base / f"{sig.name.lower()}-{n}", sig, rng, figures)
        results.append(figures)
    for name, double in (("SIGKILL", False), ("SIGTERM twice", True)):
        figures = SignalFigures(name)
        for n in range(kill_trials if kill_trials is not None else trials):
            hard_trial(base / f"{name.replace(' ', '-').lower()}-{n}", rng, figures, double)
        results.append(figures)
    return results
