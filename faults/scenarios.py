"""Single faults during sentry recording, each timed from the fault to the robot's pause.

* disk full: a small tmpfs (when this process may mount one) or ENOSPC injected where the episode's
  files are written; the session pauses with an error notice, nothing acknowledged is lost, and after
  space is freed ``resume`` records again;
* encoder failure: one episode's video encoder fails; its save fails loudly and the session pauses;
* lease holder disconnect: the controlling client stops heartbeating; the robot pauses and every client
  sees why;
* stale camera: a camera stops delivering frames; the policy pauses with the camera's name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import Console, console, lost, sentry_flags, wait_for


@dataclass
class FaultFigures:
    name: str
    passed: bool = False
    to_pause_s: float | None = None  # from the fault (as the server saw it) to the automatic pause
    acknowledged: int = 0
    lost: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        timing = "n/a" if self.to_pause_s is None else f"{self.to_pause_s * 1000:.0f} ms"
        verdict = "ok" if self.passed else "FAILED"
        notes = f" ({'; '.join(self.notes)})" if self.notes else ""
        return (f"{self.name}: {verdict}; fault -> paused {timing}; {self.acknowledged} episodes acknowledged, "
                f"{self.lost} lost{notes}")


def _first(events: list[dict[str, Any]], event_kind: str, **match: Any) -> dict[str, Any] | None:
    for event in events:
        if event["kind"] == event_kind and all(event["data"].get(k) == v for k, v in match.items()):
            return event
    return None


def _failure(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first sign of a recording failure: the saver's ``episode_failed`` or the loop's ``recording_failed``."""
    found = [e for e in (_first(events, "episode_failed"), _first(events, "recording_failed")) if e is not None]
    return min(found, key=lambda e: e["time"]) if found else None


def _settled(con: Console) -> dict[int, int]:
    """Acknowledged episodes once no save is pending any more."""
    wait_for(lambda: ((con.status() or {}).get("recording") or {}).get("pending_saves") == 0, 30, interval=0.1)
    return con.acknowledged()


def _auto_pause(events: list[dict[str, Any]], after: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The first automatic pause (at or after the event ``after``, when given: the fault's own pause)."""
    since = -1 if after is None else after["seq"]
    return _first([e for e in events if e["seq"] >= since], "phase_changed", phase="paused", automatic=True)


def _wait_paused(con: Console, timeout: float, notes: list[str] | None = None) -> dict[str, Any] | None:
    """The first automatic pause for the fault under test. A stale-camera pause on the way (the sim's
    cameras fall behind on a heavily loaded machine) is another fault: it is resumed, as an operator would,
    and noted, so the scenario still sees its own fault (the stale-camera scenario passes ``notes=None``)."""

    def paused() -> dict[str, Any] | None:
        status = con.status()
        if not (status and status["phase"] == "paused" and status.get("notice")):
            return None
        if notes is not None and "stale camera" in status["notice"]:
            notes.append(f"resumed an unrelated pause: {status['notice']}")
            con.command("resume")
            return None
        return status

    return wait_for(paused, timeout, interval=0.05)


def _verdict(figures: FaultFigures, known: dict[int, int], root: Path, problems: list[str]) -> FaultFigures:
    """After a graceful stop: nothing acknowledged may be missing and the dataset must verify."""
    from rollout_console.recording import verify_dataset

    missing = lost(known, root)
    figures.lost = len(missing)
    report = verify_dataset(root)
    if missing or not report.ok:
        problems.append(f"lost {missing}; verify: {report.errors[:3]}")
    figures.passed = not problems
    figures.notes.extend(problems)
    return figures


# ---------------------------------------------------------------------------------------- disk full


@contextlib.contextmanager
def _small_disk(size_mb: int) -> Iterator[Path | None]:
    """A tmpfs of ``size_mb`` mounted on a fresh directory, or None when mounting is not allowed here."""
    mount_point = Path(tempfile.mkdtemp(prefix="faults-tmpfs-"))
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount"):
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(mount_point)],
                                capture_output=True)
        mounted = result.returncode == 0
    try:
        yield mount_point if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)
        shutil.rmtree(mount_point, ignore_errors=True)


def disk_full(base: Path, timeout: float = 180.0) -> FaultFigures:
    """Fill the dataset's disk while sentry records; see the module docstring."""

    figures = FaultFigures("disk full")
    with _small_disk(16) as disk:
        if disk is not None:
            root, inject, freer = disk / "ds", None, None
            figures.notes.append("16 MB tmpfs")
        else:
            root = base / "disk-full"
            marker = base / "space-freed"
            inject = {"ROLLOUT_FAULT_ENOSPC_AFTER_SAVES": "2", "ROLLOUT_FAULT_SPACE_FREED": str(marker)}
            figures.notes.append("ENOSPC injected (no tmpfs here)")
        with console(sentry_flags(root, "--dataset.min_free_gb=0.004"), inject=inject) as con:
            first = wait_for(con.acknowledged, 180)  # deadlines, not figures: a loaded machine saves slowly
            if disk is not None:  # leave about 1.5 MB: a few episodes fit, then the disk is full
                freer = disk / "filler"
                free = shutil.disk_usage(disk).free
                with open(freer, "wb") as handle:
                    handle.write(b"\0" * max(0, free - 1_500_000))
            status = _wait_paused(con, timeout, figures.notes)
            known = con.acknowledged()
            figures.acknowledged = len(known)
            events = con.events()
            failed = _failure(events)
            paused = _auto_pause(events, failed)
            if failed and paused:
                figures.to_pause_s = max(0.0, paused["time"] - failed["time"])
            problems = []
            if not first:
                problems.append("no episode was saved before the disk filled")
            if status is None:
                problems.append("the session did not pause")
            elif status.get("notice_level") != "error" or "space" not in (status.get("notice") or "").lower():
                problems.append(f"notice does not name the full disk: {status.get('notice')!r}")
            if _first(events, "disk_low") is None:
                problems.append("no disk_low warning")
            # free space, resume: recording goes on
            if freer is not None:
                freer.unlink()
            elif inject is not None:
                Path(inject["ROLLOUT_FAULT_SPACE_FREED"]).touch()
            before = len(known)
            resumed = con.command("resume").status_code == 200
            again = wait_for(lambda: len(con.acknowledged()) > before, 180)
            if not (resumed and again):
                problems.append("after freeing space, resume did not record new episodes")
            known = con.acknowledged()
            figures.acknowledged = len(known)
            con.proc.terminate()
            con.proc.wait(timeout=120)
        _verdict(figures, known, root, problems)
    return figures


# ----------------------------------------------------------------------------------- encoder failure


def encoder_failure(base: Path, timeout: float = 120.0) -> FaultFigures:

    figures = FaultFigures("encoder failure")
    root = base / "encoder-failure"
    # two cameras: encoders 1-6 serve the first three episodes, the 7th fails at its 5th frame
    inject = {"ROLLOUT_FAULT_ENCODER_FAIL_NTH": "7", "ROLLOUT_FAULT_ENCODER_AFTER": "4"}
    problems = []
    with console(sentry_flags(root), inject=inject) as con:
        status = _wait_paused(con, timeout, figures.notes)
        events = con.events()
        failed = _failure(events)
        paused = _auto_pause(events, failed)
        if failed and paused:
            figures.to_pause_s = max(0.0, paused["time"] - failed["time"])
        if status is None or "encoder" not in (status.get("notice") or "").lower():
            problems.append(f"no pause naming the encoder: {status and status.get('notice')!r}")
        before = len(con.acknowledged())
        if con.command("resume").status_code != 200 or not wait_for(lambda: len(con.acknowledged()) > before, 180):
            problems.append("resume did not record again")
        known = con.acknowledged()
        con.proc.terminate()
        con.proc.wait(timeout=120)
    figures.acknowledged = len(known)
    return _verdict(figures, known, root, problems)


# ------------------------------------------------------------------------------- lease / stale camera


def lease_lapse(base: Path, timeout: float = 30.0) -> FaultFigures:
    """The controlling client goes silent (a closed tab, a lost Wi-Fi): the robot pauses, everyone sees why."""
    figures = FaultFigures("lease holder disconnects")
    root = base / "lease"
    problems = []
    with console(sentry_flags(root, episode_s=5.0)) as con:
        headers = {"X-Client-Id": "fault-suite-holder"}
        lease_timeout = float(con.get("/api/v1/lease").get("timeout_s") or 1.5)
        if con.client.post("/api/v1/lease/acquire", headers=headers, json={"label": "fault suite"}).status_code != 200:
            problems.append("could not take the lease")
        wait_for(lambda: (con.status() or {}).get("phase") == "autonomous", 30)
        for _ in range(3):
            con.client.post("/api/v1/lease/heartbeat", headers=headers)
            time.sleep(0.3)
        status = _wait_paused(con, timeout)
        events = con.events()
        paused, lapsed = _auto_pause(events), _first(events, "lease", kind="lapsed")
        if paused and lapsed:  # from the server's lapse (timeout_s after the last heartbeat) to the pause
            figures.to_pause_s = max(0.0, paused["time"] - lapsed["time"])
        elif lapsed is None:
            problems.append(f"no lapse event (lease timeout {lease_timeout} s)")
        def names_it(notice: str | None) -> bool:  # the holder lost control (its label or the lease named)
            return bool(notice) and ("control" in notice or "lease" in notice)

        if status is None or not names_it(status.get("notice")):
            problems.append(f"no pause naming the lost control: {status and status.get('notice')!r}")
        # a client that connects later still sees why
        if not names_it(con.get("/api/v1/status").get("notice")):
            problems.append("the reason is not kept for later clients")
        known = _settled(con)
    figures.acknowledged = len(known)
    figures.lost = len(lost(known, root))
    figures.passed = not problems and not figures.lost
    figures.notes.extend(problems)
    return figures


def stale_camera(base: Path, timeout: float = 30.0) -> FaultFigures:
    figures = FaultFigures("stale camera")
    root = base / "stale"
    mark = base / "camera-frozen-at"
    inject = {"ROLLOUT_FAULT_CAMERA_FREEZE_AFTER_S": "2.0", "ROLLOUT_FAULT_MARK_FILE": str(mark)}
    problems = []
    with console(sentry_flags(root, "--loop.max_observation_age_ms=500", episode_s=5.0), inject=inject) as con:
        status = _wait_paused(con, timeout)
        paused = _auto_pause(con.events())
        if paused and mark.exists():
            figures.to_pause_s = max(0.0, paused["time"] - (float(mark.read_text()) + 0.5))
        if status is None or "front" not in (status.get("notice") or ""):
            problems.append(f"no pause naming the camera: {status and status.get('notice')!r}")
        known = _settled(con)
    figures.acknowledged = len(known)
    figures.lost = len(lost(known, root))
    figures.passed = not problems and not figures.lost
    figures.notes.extend(problems)
    return figures
