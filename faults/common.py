"""Shared pieces of the fault scenarios: a real console process, polling its API, reading its dataset."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
INJECT_DIR = Path(__file__).resolve().parent / "inject"
"""Holds a ``sitecustomize`` that injects faults into a child console at its library boundaries."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sentry_flags(root: Path, *extra: str, episode_s: float = 0.5, cameras: str | None = None) -> list[str]:
    """A sentry session recording short episodes into ``root`` with the fast encoder."""
    flags = ["--robot.camera_width=160", "--robot.camera_height=120", "--strategy.type=sentry",
             f"--strategy.episode_time_s={episode_s}", "--dataset.repo_id=faults/sentry", f"--dataset.root={root}",
             "--dataset.vcodec=h264", "--dataset.stamp_repo_id=false", "--dataset.push_to_hub=false"]
    if cameras:
        flags.append(f"--robot.cameras={cameras}")
    return [*flags, *extra]


@dataclass
class Console:
    """A real ``rollout-console`` process on a free loopback port."""

    proc: subprocess.Popen[bytes]
    url: str
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=5.0)

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params).json()

    def status(self) -> dict[str, Any] | None:
        try:
            return self.get("/api/v1/status")
        except (httpx.HTTPError, ValueError):
            return None

    def acknowledged(self) -> dict[int, int]:
        """Episodes the API lists (an episode is listed only once it is durable): index -> length."""
        try:
            return {e["index"]: e["length"] for e in self.get("/api/v1/episodes")["data"]}
        except (httpx.HTTPError, ValueError, KeyError):
            return {}

    def events(self, since: int = 0) -> list[dict[str, Any]]:
        try:
            return list(self.get("/api/v1/events", since=since)["data"])
        except (httpx.HTTPError, ValueError, KeyError):
            return []

    def command(self, name: str, **body: Any) -> httpx.Response:
        return self.client.post(f"/api/v1/commands/{name}", json=body or None)

    def close(self) -> None:
        self.client.close()


@contextlib.contextmanager
def console(flags: list[str], *, env: dict[str, str] | None = None, inject: dict[str, str] | None = None,
            start_timeout: float = 90.0) -> Iterator[Console]:
    """Start the console; on exit SIGTERM it (if still running) and wait, killing it only as a last resort.

    ``inject`` sets ``ROLLOUT_FAULT_*`` variables read by ``faults/inject/sitecustomize.py`` in the child.
    """
    port = free_port()
    child_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    if inject:
        child_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(INJECT_DIR), child_env.get("PYTHONPATH")) if p)
        child_env.update(inject)
    args = [sys.executable, "-m", "rollout_console", f"--server.port={port}", "--server.log_level=error", *flags]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO, env=child_env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"console exited at start ({proc.returncode}): "
                               f"{proc.stderr.read().decode(errors='replace') if proc.stderr else ''}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("console did not start in time")
        time.sleep(0.05)
    handle = Console(proc, url)
    try:
        yield handle
    finally:
        handle.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=180)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.02) -> Any:
    """Poll until ``predicate`` is truthy; returns its value, or None when ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def committed(root: Path) -> dict[int, int]:
    """Episodes committed in the dataset's metadata: index -> length (what survives any crash)."""
    import pyarrow.parquet as pq

    lengths: dict[int, int] = {}
    for path in sorted((root / "meta" / "episodes").rglob("*.parquet")):
        table = pq.read_table(path, columns=["episode_index", "length"])
        lengths.update(zip(table.column("episode_index").to_pylist(), table.column("length").to_pylist(),
                           strict=True))
    return lengths


def lost(acknowledged: dict[int, int], root: Path) -> dict[int, int]:
    """Acknowledged episodes missing from (or changed in) the dataset."""
    have = committed(root) if (root / "meta").exists() else {}
    return {index: length for index, length in acknowledged.items() if have.get(index) != length}


def staging_leftovers(root: Path) -> list[str]:
    """Files left in the dataset's staging area (a graceful stop leaves none)."""
    from rollout_console.recording.layout import STATE_DIR

    staging = root / STATE_DIR / "staging"
    if not staging.exists():
        return []
    return sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def fmt_ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"
