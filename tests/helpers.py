"""Test helpers: small sim configs, a real uvicorn server in a thread, the real CLI in a subprocess."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rollout_console.api import create_app
from rollout_console.config import RolloutConsoleConfig, load_config
from rollout_console.runtime import Session, build_session

REPO = Path(__file__).resolve().parents[1]
SMALL_CAMERAS = ["--robot.camera_width=160", "--robot.camera_height=120"]


def dataset_flags(root: Path, strategy: str, *extra: str, push: bool = False) -> list[str]:
    """Flags for a recording session into ``root`` with the fast encoder (h264) and no stamp."""
    return [f"--strategy.type={strategy}", f"--dataset.repo_id=tester/{strategy}_test", f"--dataset.root={root}",
            "--dataset.vcodec=h264", "--dataset.stamp_repo_id=false", f"--dataset.push_to_hub={str(push).lower()}",
            *extra]


# A loaded machine can starve a camera thread for a moment; tests that are not about staleness must not
# pause on it (tests about staleness pass their own --loop.max_observation_age_ms, which wins).
PATIENT_STALENESS = ["--loop.max_observation_age_ms=10000"]


def config(*flags: str, small: bool = True) -> RolloutConsoleConfig:
    """A config from flags; small cameras by default so tests stay light on 2 cores."""
    return load_config([*(SMALL_CAMERAS if small else []), *PATIENT_STALENESS, *flags])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.02, message: str = "condition") -> Any:
    """Poll ``predicate`` until it is truthy (returns its value); generous by default: a loaded machine is slow."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.1f} s waiting for {message}")


@dataclass
class LiveServer:
    url: str
    port: int
    session: Session
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0)


@contextlib.contextmanager
def live_server(cfg: RolloutConsoleConfig, **app_options: Any) -> Iterator[LiveServer]:
    """A real uvicorn server on a free loopback port, serving a real session on the sim robot.

    ``app_options`` go to create_app (e.g. ``access=`` to test token rules, ``pedal=``).
    """
    port = free_port()
    session = build_session(cfg, hub_api=app_options.pop("hub_api", None))
    options = {key: (value(port) if key == "access" and callable(value) else value) for key, value in app_options.items()}
    app = create_app(cfg, session, **options)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=3))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    wait_until(lambda: server.started, message="uvicorn start")
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", port, session, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        assert not thread.is_alive(), "server did not shut down"


@contextlib.contextmanager
def cli_server(*flags: str, port: int | None = None, env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The real `rollout-console` command in a subprocess; yields (url, process)."""
    port = port or free_port()
    args = [sys.executable, "-m", "rollout_console", f"--server.port={port}", "--server.log_level=warning",
            *PATIENT_STALENESS, *flags]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"server exited early ({proc.returncode}): {proc.stdout.read() if proc.stdout else ''}")
            try:
                return httpx.get(url + "/healthz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, timeout=120, message="the CLI server")  # a loaded machine imports torch slowly
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
