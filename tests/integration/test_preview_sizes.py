"""Preview sizes on the camera socket (real uvicorn): full resolution by default, ``?scale=0.5`` / ``0.25`` on
request, each size encoded once per frame whatever the number of its viewers, bad values refused, and the
bytes each viewer is sent reported in status and /metrics."""

from __future__ import annotations

import json
import re
import struct
import threading

import cv2
import httpx
import numpy as np
import pytest
from helpers import config, live_server, wait_until
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

HEADER = struct.Struct("<4sId")


@pytest.fixture(scope="module")
def server():
    with live_server(config("--return_duration_s=0.5")) as live:  # cameras 160x120
        yield live


def _shape(server, query: str) -> tuple[int, ...]:
    with connect(server.ws_url + f"/api/v1/cameras/front/ws{query}", open_timeout=30) as ws:
        packet = ws.recv(timeout=30)
    assert isinstance(packet, bytes) and packet[:4] == b"RCJ1"
    image = cv2.imdecode(np.frombuffer(packet[HEADER.size:], np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image.shape


def test_full_resolution_by_default_smaller_on_request(server) -> None:
    assert _shape(server, "") == (120, 160, 3)
    assert _shape(server, "?scale=1") == (120, 160, 3)
    assert _shape(server, "?scale=0.5") == (60, 80, 3)
    assert _shape(server, "?scale=0.25") == (30, 40, 3)


@pytest.mark.parametrize("raw", ["abc", "0.3", "2", "0", "-0.5", "nan", "inf", ""])
def test_a_bad_scale_closes_the_socket_with_4400_and_a_reason(server, raw: str) -> None:
    hub = server.server.config.app.state.hubs.get("front")
    before = hub.viewer_count
    if raw == "":  # an empty value is the default, not an error
        assert _shape(server, "?scale=") == (120, 160, 3)
        return
    with connect(server.ws_url + f"/api/v1/cameras/front/ws?scale={raw}", open_timeout=30) as ws, \
            pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=30)
    assert info.value.rcvd is not None and info.value.rcvd.code == 4400
    assert "scale must be one of 1, 0.5, 0.25" in info.value.rcvd.reason
    assert hub.viewer_count == before, "a refused socket never becomes a viewer"


@pytest.mark.parametrize("query", ["?ack=maybe", "?ack=2", "?scale=0.5&ack=yes"])
def test_a_bad_ack_flag_closes_the_socket_with_4400(server, query: str) -> None:
    with connect(server.ws_url + f"/api/v1/cameras/front/ws{query}", open_timeout=30) as ws, \
            pytest.raises(ConnectionClosed) as info:
        ws.recv(timeout=30)
    assert info.value.rcvd is not None and info.value.rcvd.code == 4400
    assert "ack must be 1, true, 0 or false" in info.value.rcvd.reason


@pytest.mark.parametrize("message", ["hello", '{"ack": "3"}', '{"ack": -1}', '{"ack": 1, "more": 2}', b"\x00"])
def test_anything_but_an_acknowledgement_closes_the_socket_with_4400(server, message: str | bytes) -> None:
    hub = server.server.config.app.state.hubs.get("front")
    with connect(server.ws_url + "/api/v1/cameras/front/ws?ack=1", open_timeout=30) as ws:
        first = ws.recv(timeout=30)
        ws.send(json.dumps({"ack": HEADER.unpack_from(first)[1]}))  # a good one is taken silently
        ws.send(message)
        with pytest.raises(ConnectionClosed) as info:
            while True:
                ws.recv(timeout=30)
    assert info.value.rcvd is not None and info.value.rcvd.code == 4400
    assert info.value.rcvd.reason == 'a camera socket takes only {"ack": <frame seq>} messages'
    wait_until(lambda: hub.viewer_count == 0, message="the viewer gone")


class _Watcher(threading.Thread):
    """A client reading one camera socket until told to stop; counts frames and bytes."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.frames = 0
        self.bytes = 0
        self.shape: tuple[int, ...] | None = None
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with connect(self.url, open_timeout=30) as ws:
                while not self.stop.is_set():
                    try:
                        packet = ws.recv(timeout=0.5)
                    except TimeoutError:
                        continue
                    assert isinstance(packet, bytes)
                    if self.shape is None:
                        image = cv2.imdecode(np.frombuffer(packet[HEADER.size:], np.uint8), cv2.IMREAD_COLOR)
                        self.shape = image.shape
                    self.frames += 1
                    self.bytes += len(packet)
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error


def test_each_size_is_encoded_once_per_frame_and_each_viewer_is_measured(server) -> None:
    hub = server.server.config.app.state.hubs.get("top")
    base = server.ws_url + "/api/v1/cameras/top/ws"
    watchers = [_Watcher(base + "?scale=0.5") for _ in range(3)] + [_Watcher(base + "?scale=0.25"), _Watcher(base)]
    for watcher in watchers:
        watcher.start()
    try:
        wait_until(lambda: hub.viewer_count == 5 and all(w.frames >= 3 for w in watchers), timeout=60,
                   message="five viewers receiving")
        by_scale = {size["scale"]: size for size in hub.stats()["sizes"]}
        start = {scale: by_scale[scale]["encodes"] for scale in (1.0, 0.5, 0.25)}
        start_seq = hub.source.latest().seq
        start_frames = [w.frames for w in watchers]
        wait_until(lambda: all(w.frames - f >= 15 for w, f in zip(watchers, start_frames, strict=True)), timeout=60,
                   message="15 more frames for every viewer")
        captured = hub.source.latest().seq - start_seq
        by_scale = {size["scale"]: size for size in hub.stats()["sizes"]}
        for scale in (1.0, 0.5, 0.25):
            encoded = by_scale[scale]["encodes"] - start[scale]
            assert 15 <= encoded <= captured + 2, f"scale {scale}: {encoded} encodes for {captured} camera frames"
        assert {(s["scale"], s["width"], s["height"], s["viewers"]) for s in by_scale.values()} == {
            (1.0, 160, 120, 1), (0.5, 80, 60, 3), (0.25, 40, 30, 1)}
        assert [w.shape for w in watchers] == [(60, 80, 3)] * 3 + [(30, 40, 3), (120, 160, 3)]

        # status (over HTTP, as any client reads it): one entry per viewer with its bytes and frames per second
        preview = httpx.get(server.url + "/api/v1/status", timeout=30).json()["previews"]["top"]
        clients = preview["clients"]
        assert sorted(c["scale"] for c in clients) == [0.25, 0.5, 0.5, 0.5, 1.0]
        assert all(c["bytes_per_s"] > 0 and c["frames_per_s"] > 0 and c["sent"] >= 18 for c in clients)
        full = next(c for c in clients if c["scale"] == 1.0)
        quarter = next(c for c in clients if c["scale"] == 0.25)
        assert full["bytes"] / full["sent"] > quarter["bytes"] / quarter["sent"], "a smaller size costs fewer bytes"
        assert preview["bytes_per_s"] == pytest.approx(sum(c["bytes_per_s"] for c in clients), abs=1.0)
        # what the server says it sent is what the client received (up to the frames in flight meanwhile)
        assert abs(full["sent"] - watchers[-1].frames) <= 5
    finally:
        for watcher in watchers:
            watcher.stop.set()
        for watcher in watchers:
            watcher.join(timeout=30)
    assert all(w.error is None for w in watchers), [w.error for w in watchers]
    wait_until(lambda: hub.viewer_count == 0, message="viewers gone")

    # the totals survive the viewers, and /metrics exposes them per camera
    stats = hub.stats()
    # (a send cancelled by the disconnect may have reached its client uncounted: one packet per viewer at most)
    assert stats["clients"] == [] and stats["bytes_sent"] >= sum(w.bytes for w in watchers) - 5 * 20_000
    metrics = httpx.get(server.url + "/metrics", timeout=30).text
    sent = re.search(r'^rollout_console_preview_sent_bytes_total\{camera="top"\} (\S+)$', metrics, re.M)
    assert sent and float(sent.group(1)) == stats["bytes_sent"] > 0
    assert re.search(r'^rollout_console_preview_bytes_per_second\{camera="top"\} ', metrics, re.M)
    assert re.search(r'^rollout_console_preview_skipped_frames_total\{camera="top"\} ', metrics, re.M)
