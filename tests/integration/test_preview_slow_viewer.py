"""A viewer on a slow link gets fewer frames and slows nobody (real uvicorn, real second processes).

Three viewers watch the same camera at the same size: one reads freely (in this process), one is a second
process reading 2 kB/s through a 4 kB receive buffer and acknowledging each frame as the page does
(preview_slow_client.py: a slow link), one a second process that reads nothing at all (a stalled page: it
said it acknowledges, so it is sent the window of 3 frames and no more). Once the server has had to skip
frames for the slow one, over the next 60 frames of the free viewer: the free viewer got most of what was
encoded, the slow one at most a third of the free one's frames, the server's per-viewer figures say the
same, and the control loop kept ticking. No bound depends on the machine being idle: the counts are
relative to each other.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import config, live_server, wait_until
from rollout_console.api.preview import ACK_WINDOW
from websockets.sync.client import connect

SLOW_CLIENT = Path(__file__).with_name("preview_slow_client.py")
SLOW_RATE = 2000  # bytes per second; a 160x120 preview frame is a few kB


@pytest.fixture(scope="module")
def server():
    with live_server(config("--return_duration_s=0.5")) as live:  # cameras 160x120 at 30 fps
        wait_until(lambda: live.session.phase.value == "autonomous", timeout=60)
        yield live


class SlowClient:
    """preview_slow_client.py in its own process; ``frames`` grows as its JSON lines come in."""

    def __init__(self, url: str, rate: float) -> None:
        self.proc = subprocess.Popen([sys.executable, str(SLOW_CLIENT), url, str(rate)], stdout=subprocess.PIPE,
                                     text=True)
        self.opened = threading.Event()
        self.frames = 0
        self.closed_with: int | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            message = json.loads(line)
            if message.get("open"):
                self.opened.set()
            elif "closed" in message:
                self.closed_with = message["closed"]
            else:
                self.frames += 1

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


@contextlib.contextmanager
def slow_clients(url: str, *rates: float) -> Iterator[list[SlowClient]]:
    clients = [SlowClient(url, rate) for rate in rates]
    try:
        yield clients
    finally:
        for client in clients:
            client.stop()


class FreeViewer(threading.Thread):
    """Reads one camera socket as fast as frames come, until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.frames = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with connect(self.url, open_timeout=30) as ws:
            while not self.stop.is_set():
                with contextlib.suppress(TimeoutError):
                    ws.recv(timeout=0.5)
                    self.frames += 1


def test_a_throttled_viewer_gets_fewer_frames_and_slows_nobody(server) -> None:
    hub = server.server.config.app.state.hubs.get("front")
    url = server.ws_url + "/api/v1/cameras/front/ws"
    free = FreeViewer(url)
    with slow_clients(url, SLOW_RATE, 0) as (slow, stalled):
        free.start()
        try:
            assert slow.opened.wait(60) and stalled.opened.wait(60), "the slow clients connected"
            wait_until(lambda: hub.viewer_count == 3, timeout=60, message="three viewers")
            # the slow link is full once the server skips frames for it (it acknowledges: 3 frames in flight)
            wait_until(lambda: any(c["acknowledged"] and c["skipped"] >= 10 for c in hub.stats()["clients"]),
                       timeout=60, message="the server skipping frames for the slow viewer")
            encodes0, free0, slow0 = hub.encodes, free.frames, slow.frames
            ticks0 = server.session.status()["loop"]["ticks"]
            wait_until(lambda: free.frames - free0 >= 60, timeout=60, message="60 frames for the free viewer")
            encoded, free_frames, slow_frames = hub.encodes - encodes0, free.frames - free0, slow.frames - slow0
            ticks = server.session.status()["loop"]["ticks"] - ticks0
            clients = httpx.get(server.url + "/api/v1/status", timeout=30).json()["previews"]["front"]["clients"]
        finally:
            free.stop.set()
            free.join(timeout=30)

    # the free viewer kept up with the encoder (one encode per frame, shared by the three)
    assert free_frames >= encoded / 2, f"free viewer got {free_frames} of {encoded} frames encoded meanwhile"
    # the slow link got fewer frames: what 2 kB/s carries, not what the camera makes
    assert slow_frames * 3 <= free_frames, f"slow viewer {slow_frames} frames, free viewer {free_frames}"
    assert slow.closed_with is None and stalled.closed_with is None
    # the server's per-viewer figures tell the same story: the slow viewer (the one acknowledging frames, as
    # the page does) was sent what its link took, a fraction of the free viewer's bytes, and skipped the rest
    assert len(clients) == 3, clients
    (free_figures,) = [c for c in clients if not c["acknowledged"]]
    (slow_figures,) = [c for c in clients if c["acknowledged"] and c["acks"] > 0]
    (stalled_figures,) = [c for c in clients if c["acknowledged"] and c["acks"] == 0]
    # a stalled client that said it acknowledges is sent the window (3 frames) and nothing more
    assert stalled_figures["sent"] == ACK_WINDOW and stalled_figures["skipped"] >= 10, clients
    assert slow_figures["bytes_per_s"] * 3 <= free_figures["bytes_per_s"], clients
    assert slow_figures["skipped"] >= 10 and slow_figures["ack_ms"] is not None, clients
    assert slow_figures["sent"] * 3 <= free_figures["sent"], clients
    # the control loop never waited for a preview: it ticked on while 60 frames went by (2 s at 30 fps)
    assert ticks >= 10, f"{ticks} loop ticks"
    wait_until(lambda: hub.viewer_count == 0, message="the viewers gone once their sockets close")
