"""Shared benchmark helpers: a console subprocess, percentiles, and aligned printing."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def console(*flags: str, ready_timeout: float = 60.0) -> Iterator[str]:
    """The real `rollout-console` in a subprocess (the benchmark process plays the clients)."""
    port = free_port()
    args = [sys.executable, "-m", "rollout_console", f"--server.port={port}", "--server.log_level=warning",
            "--server.exit_when_stopped=false", *flags]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_timeout
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"console exited: {proc.stderr.read() if proc.stderr else ''}")
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("console did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def pct(values: Sequence[float], *qs: float) -> list[float]:
    if len(values) == 0:
        return [float("nan") for _ in qs]
    return [float(v) for v in np.percentile(np.asarray(values, dtype=float), qs)]


def header(title: str) -> None:
    print(f"\n== {title}", flush=True)


def row(label: str, **figures: object) -> None:
    parts = []
    for key, value in figures.items():
        text = f"{value:.2f}" if isinstance(value, float) else str(value)
        parts.append(f"{key}={text}")
    print(f"  {label:<34} " + "  ".join(parts), flush=True)
