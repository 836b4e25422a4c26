"""Policy servers as real second processes on loopback: ``rollout-console serve-policy`` and the openpi-like one."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: the server dies mid-request, as a crashed GPU process would."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(20)


def _spawn(args: list[str], ready: re.Pattern[str], env: dict[str, str] | None, timeout: float) -> ServerProcess:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    lines: queue.Queue[str | None] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            raise AssertionError(f"server exited early ({proc.wait()}): {''.join(seen)}")
        match = ready.search(line)
        if match:
            return ServerProcess(proc, int(match.group(1)), seen)
    proc.kill()
    raise AssertionError(f"server not ready within {timeout:.0f} s: {''.join(seen)}")


@contextlib.contextmanager
def serve_policy(*flags: str, env: dict[str, str] | None = None, port: int = 0) -> Iterator[ServerProcess]:
    """``rollout-console serve-policy`` (builtin:sim_flow unless flags say otherwise)."""
    args = [sys.executable, "-m", "rollout_console.cli", "serve-policy", f"--port={port}", "--log_level=warning",
            *flags]
    server = _spawn(args, re.compile(r"on ws://127\.0\.0\.1:(\d+)"), env, timeout=90)
    try:
        yield server
    finally:
        server.kill()


@contextlib.contextmanager
def openpi_like(*args: str) -> Iterator[ServerProcess]:
    """The openpi-behaving test server (see openpi_like_server.py for its options)."""
    command = [sys.executable, str(HERE / "openpi_like_server.py"), *args]
    server = _spawn(command, re.compile(r"listening (\d+)"), None, timeout=60)
    try:
        yield server
    finally:
        server.kill()
