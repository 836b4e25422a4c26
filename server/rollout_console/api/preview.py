"""Camera previews: one JPEG encode per frame and size, shared by every viewer, only while someone watches.

Each hub runs an encoder thread per camera while it has viewers. A viewer watches at a scale (full
resolution by default, or half or a quarter of it: ``PREVIEW_SCALES``); each frame is encoded once for
every scale somebody watches, whatever the number of viewers. Encoded packets are handed to the event
loop once and offered to every viewer of that scale; a viewer keeps only the newest packet, so a client
on a slow link gets fewer frames instead of building a queue (and never delays anyone else, nor the
control loop, which never waits for a preview). What each viewer is sent is measured (bytes and frames
per second over the last few seconds) for status and ``/metrics``.

Packet layout (binary WebSocket message): a 16-byte header then the JPEG bytes.
    bytes 0-3   magic b"RCJ1"
    bytes 4-7   uint32 little-endian frame sequence number
    bytes 8-15  float64 little-endian capture time, seconds since the Unix epoch
"""

from __future__ import annotations

import asyncio
import logging
import struct
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

import cv2

from ..hardware.protocols import CameraSource, Frame

__all__ = ["ACK_WINDOW", "HEADER", "PREVIEW_SCALES", "PreviewHub", "PreviewHubs", "Viewer", "parse_ack",
           "parse_scale"]

log = logging.getLogger(__name__)

HEADER = struct.Struct("<4sId")
MAGIC = b"RCJ1"
_IDLE_STOP_S = 2.0
PREVIEW_SCALES: tuple[float, ...] = (1.0, 0.5, 0.25)
"""The preview sizes a viewer may ask for, as fractions of the camera's resolution (full, half, quarter).
A short fixed list, so that the encoder does at most one encode per frame for each."""
ACK_WINDOW = 3
"""Frames in flight to a client that acknowledges them: enough for 30 fps over a 100 ms round trip, few
enough that a slow link shows a frame at most a few frame-transfer times old."""
RATE_WINDOW_S = 5.0
"""Bytes and frames per second are averaged over this many seconds (a slow viewer gets a frame every few)."""


def parse_scale(raw: str | None) -> float:
    """The ``scale`` query parameter of the camera socket: absent means full resolution.

    Raises ValueError with a message for the client when it is not one of PREVIEW_SCALES.
    """
    if raw is None or raw == "":
        return 1.0
    allowed = ", ".join(f"{s:g}" for s in PREVIEW_SCALES)
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"scale must be one of {allowed} (got {raw[:32]!r})") from None
    if value not in PREVIEW_SCALES:
        raise ValueError(f"scale must be one of {allowed} (got {raw[:32]!r})")
    return value


def parse_ack(raw: str | None) -> bool:
    """The ``ack`` query parameter: ``1`` or ``true`` when the client acknowledges every frame it receives."""
    if raw is None or raw in ("", "0", "false"):
        return False
    if raw in ("1", "true"):
        return True
    raise ValueError(f"ack must be 1, true, 0 or false (got {raw[:32]!r})")


class SendRate:
    """Bytes and messages handed to one socket, and their rate over the last RATE_WINDOW_S seconds."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.bytes = 0
        self.count = 0
        self._recent: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def add(self, size: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self.bytes += size
            self.count += 1
            self._recent.append((now, size))
            self._prune(now)

    def rates(self, now: float | None = None) -> tuple[float, float]:
        """(bytes per second, messages per second) over the window, or since the start if younger."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._prune(now)
            total = sum(size for _, size in self._recent)
            count = len(self._recent)
        span = min(RATE_WINDOW_S, now - self.started)
        if span <= 0.0:
            return 0.0, 0.0
        return total / span, count / span

    def _prune(self, now: float) -> None:
        while self._recent and now - self._recent[0][0] > RATE_WINDOW_S:
            self._recent.popleft()


class Viewer:
    """One client's slot: the newest packet and an event that says a new one is there.

    A client that acknowledges the frames it receives (it says so when it connects, ``?ack=1``, then sends
    ``{"ack": seq}`` per frame, as the page does) has at most ACK_WINDOW frames in flight: on a slow link
    the frames wait here, where a newer one replaces them, instead of in the kernel's socket buffers (which
    can hold seconds of video). Any other client is paced by TCP alone.
    """

    def __init__(self, scale: float = 1.0, acknowledges: bool = False) -> None:
        self.scale = scale
        self.paced = acknowledges
        self.packet: bytes | None = None
        self.ready = asyncio.Event()
        self.skipped = 0
        self.sends = SendRate()
        self.acks = 0
        self._window_open = asyncio.Event()
        self._window_open.set()
        self._sent_at: dict[int, float] = {}
        self._round_trips: deque[float] = deque(maxlen=30)

    @property
    def sent(self) -> int:
        return self.sends.count

    def offer(self, packet: bytes) -> None:
        if self.packet is not None:  # the client has not taken the previous one yet: it is skipped
            self.skipped += 1
        self.packet = packet
        self.ready.set()

    async def next_packet(self) -> bytes:
        while True:
            await self.ready.wait()
            if self.paced and self.in_flight >= ACK_WINDOW:
                self._window_open.clear()
                await self._window_open.wait()  # meanwhile newer packets replace the one waiting
                continue
            self.ready.clear()
            packet, self.packet = self.packet, None
            assert packet is not None
            return packet

    def record_sent(self, packet: bytes) -> None:
        """Called once the socket took a packet (the send returned: the link had room for it)."""
        self.sends.add(len(packet))
        self._sent_at[HEADER.unpack_from(packet)[1]] = time.monotonic()
        if not self.paced and len(self._sent_at) > 4 * ACK_WINDOW:  # not acknowledging: keep it bounded
            self._sent_at.pop(next(iter(self._sent_at)))

    @property
    def in_flight(self) -> int:
        """Frames sent and not acknowledged (an acknowledgement covers the frames sent before it too)."""
        return len(self._sent_at)

    def acknowledge(self, seq: int) -> None:
        """The client received frame ``seq`` (and so every frame sent before it): its round trip measured."""
        self.acks += 1
        sent_at = self._sent_at.get(seq)
        if sent_at is None:  # not in flight (already acknowledged, or never sent): nothing to release
            return
        while self._sent_at:
            oldest = next(iter(self._sent_at))
            del self._sent_at[oldest]
            if oldest == seq:
                break
        self._round_trips.append(time.monotonic() - sent_at)
        if self.in_flight < ACK_WINDOW:
            self._window_open.set()

    def stats(self) -> dict[str, Any]:
        bytes_per_s, frames_per_s = self.sends.rates()
        trips = sorted(self._round_trips)
        return {"scale": self.scale, "bytes_per_s": round(bytes_per_s, 1), "frames_per_s": round(frames_per_s, 2),
                "sent": self.sends.count, "bytes": self.sends.bytes, "skipped": self.skipped,
                "acknowledged": self.paced, "acks": self.acks,
                "ack_ms": round(trips[len(trips) // 2] * 1000.0, 1) if trips else None}


class _SizeEncodes:
    """Encodes at one scale: how many, how fast, and the size of the newest."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.encodes = 0
        self.times: deque[float] = deque(maxlen=120)
        self.width = 0
        self.height = 0
        self.jpeg_bytes = 0

    def count(self, width: int, height: int, jpeg_bytes: int) -> None:
        self.encodes += 1
        self.times.append(time.monotonic())
        self.width, self.height, self.jpeg_bytes = width, height, jpeg_bytes


def _per_second(times: list[float], window: float = 2.0) -> float:
    now = time.monotonic()
    recent = [t for t in times if now - t <= window]
    if len(recent) < 2 or recent[-1] <= recent[0]:
        return 0.0
    return (len(recent) - 1) / (recent[-1] - recent[0])


class PreviewHub:
    """Encoder and fan-out for one camera."""

    def __init__(self, source: CameraSource, quality: int = 80) -> None:
        self.source = source
        self.quality = quality
        self._viewers: set[Viewer] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.encodes = 0
        self._encode_times: deque[float] = deque(maxlen=120)
        self._sizes: dict[float, _SizeEncodes] = {}
        # what viewers that have left were sent, so the totals (and /metrics counters) never go down
        self._gone_bytes = 0
        self._gone_sent = 0
        self._gone_skipped = 0

    @property
    def viewer_count(self) -> int:
        return len(self._viewers)

    def add_viewer(self, loop: asyncio.AbstractEventLoop, scale: float = 1.0, acknowledges: bool = False) -> Viewer:
        if scale not in PREVIEW_SCALES:
            raise ValueError(f"unknown preview scale {scale}")
        viewer = Viewer(scale, acknowledges)
        with self._lock:
            self._loop = loop
            self._viewers.add(viewer)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name=f"preview-{self.source.name}", daemon=True)
                self._thread.start()
        return viewer

    def remove_viewer(self, viewer: Viewer) -> None:
        with self._lock:
            if viewer in self._viewers:
                self._viewers.discard(viewer)
                self._gone_bytes += viewer.sends.bytes
                self._gone_sent += viewer.sends.count
                self._gone_skipped += viewer.skipped

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def encode(self, frame: Frame, scale: float = 1.0) -> bytes:
        image = frame.image
        if scale != 1.0:
            height, width = image.shape[:2]
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError(f"camera {self.source.name}: JPEG encoding failed")
        return HEADER.pack(MAGIC, frame.seq & 0xFFFFFFFF, frame.captured_wall) + jpeg.tobytes()

    def encodes_per_second(self) -> float:
        return _per_second(list(self._encode_times))

    def _watched_scales(self) -> tuple[list[float], asyncio.AbstractEventLoop | None]:
        with self._lock:
            scales = sorted({viewer.scale for viewer in self._viewers})  # smallest first: cheapest, soonest
            return scales, self._loop

    def _run(self) -> None:
        last_seq = 0
        idle_since: float | None = None
        while not self._stop.is_set():
            scales, loop = self._watched_scales()
            if not scales:  # nobody watches: stop encoding after a short grace
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > _IDLE_STOP_S:
                    with self._lock:
                        if not self._viewers:
                            self._thread = None
                            return
                self._stop.wait(0.05)
                continue
            idle_since = None
            frame = self.source.wait_newer(last_seq, timeout=0.5)
            if frame is None:
                continue
            last_seq = frame.seq
            for scale in scales:
                if not self._encode_and_offer(frame, scale, loop):
                    return

    def _encode_and_offer(self, frame: Frame, scale: float, loop: asyncio.AbstractEventLoop | None) -> bool:
        """One encode at ``scale``, handed to the event loop once; False when the loop has gone."""
        try:
            packet = self.encode(frame, scale)
        except Exception:
            log.exception("preview encode failed")
            return True
        height, width = frame.image.shape[:2]
        sizes = self._sizes.get(scale) or self._sizes.setdefault(scale, _SizeEncodes(scale))
        sizes.count(max(1, round(width * scale)), max(1, round(height * scale)), len(packet) - HEADER.size)
        self.encodes += 1
        self._encode_times.append(time.monotonic())
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._fan_out, scale, packet)
            except RuntimeError:  # loop closed between the check and the call
                return False
        return True

    def _fan_out(self, scale: float, packet: bytes) -> None:
        for viewer in list(self._viewers):
            if viewer.scale == scale:
                viewer.offer(packet)

    def stats(self) -> dict[str, Any]:
        """Viewers, encodes (all sizes), bytes sent, and the figures per size and per viewer."""
        with self._lock:
            viewers = list(self._viewers)
            gone = (self._gone_bytes, self._gone_sent, self._gone_skipped)
        clients = sorted((viewer.stats() for viewer in viewers), key=lambda c: (-c["scale"], -c["bytes_per_s"]))
        watched = {viewer.scale for viewer in viewers}
        sizes = [
            {"scale": size.scale, "width": size.width, "height": size.height,
             "viewers": sum(1 for viewer in viewers if viewer.scale == size.scale), "encodes": size.encodes,
             "encodes_per_s": round(_per_second(list(size.times)), 2) if size.scale in watched else 0.0,
             "jpeg_bytes": size.jpeg_bytes}
            for size in sorted(list(self._sizes.values()), key=lambda s: -s.scale)
        ]
        return {
            "viewers": len(viewers),
            "encodes": self.encodes,
            "encodes_per_s": round(self.encodes_per_second(), 2),
            "bytes_per_s": round(sum(client["bytes_per_s"] for client in clients), 1),
            "bytes_sent": gone[0] + sum(client["bytes"] for client in clients),
            "frames_sent": gone[1] + sum(client["sent"] for client in clients),
            "frames_skipped": gone[2] + sum(client["skipped"] for client in clients),
            "sizes": sizes,
            "clients": clients,
        }


class PreviewHubs:
    """One hub per camera of the session."""

    def __init__(self, cameras: Mapping[str, CameraSource], quality: int = 80) -> None:
        self.hubs = {name: PreviewHub(source, quality) for name, source in cameras.items()}

    def get(self, name: str) -> PreviewHub | None:
        return self.hubs.get(name)

    def close(self) -> None:
        for hub in self.hubs.values():
            hub.close()

    def stats(self) -> dict[str, dict[str, Any]]:
        return {name: hub.stats() for name, hub in self.hubs.items()}
