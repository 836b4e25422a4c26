"""Camera previews: one JPEG encode per frame, shared by every viewer, only while someone watches.

Each hub runs an encoder thread per camera while it has viewers. Encoded packets are handed to the
event loop once and offered to every viewer; a viewer keeps only the newest packet, so a slow
client skips frames instead of building a queue (and never delays anyone else).

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

import cv2

from ..hardware.protocols import CameraSource, Frame

__all__ = ["HEADER", "PreviewHub", "PreviewHubs", "Viewer"]

log = logging.getLogger(__name__)

HEADER = struct.Struct("<4sId")
MAGIC = b"RCJ1"
_IDLE_STOP_S = 2.0


class Viewer:
    """One client's slot: the newest packet and an event that says a new one is there."""

    def __init__(self) -> None:
        self.packet: bytes | None = None
        self.ready = asyncio.Event()
        self.sent = 0
        self.skipped = 0

    def offer(self, packet: bytes) -> None:
        if self.packet is not None:
            self.skipped += 1
        self.packet = packet
        self.ready.set()

    async def next_packet(self) -> bytes:
        await self.ready.wait()
        self.ready.clear()
        packet, self.packet = self.packet, None
        assert packet is not None
        return packet


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

    @property
    def viewer_count(self) -> int:
        return len(self._viewers)

    def add_viewer(self, loop: asyncio.AbstractEventLoop) -> Viewer:
        viewer = Viewer()
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
            self._viewers.discard(viewer)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def encode(self, frame: Frame) -> bytes:
        bgr = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)
        ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError(f"camera {self.source.name}: JPEG encoding failed")
        return HEADER.pack(MAGIC, frame.seq & 0xFFFFFFFF, frame.captured_wall) + jpeg.tobytes()

    def encodes_per_second(self) -> float:
        times = list(self._encode_times)
        now = time.monotonic()
        recent = [t for t in times if now - t <= 2.0]
        if len(recent) < 2 or recent[-1] <= recent[0]:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])

    def _run(self) -> None:
        last_seq = 0
        idle_since: float | None = None
        while not self._stop.is_set():
            with self._lock:
                watching = bool(self._viewers)
                loop = self._loop
            if not watching:  # nobody watches: stop encoding after a short grace
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
            try:
                packet = self.encode(frame)
            except Exception:
                log.exception("preview encode failed")
                continue
            self.encodes += 1
            self._encode_times.append(time.monotonic())
            if loop is not None and not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(self._fan_out, packet)
                except RuntimeError:  # loop closed between the check and the call
                    return

    def _fan_out(self, packet: bytes) -> None:
        for viewer in list(self._viewers):
            viewer.offer(packet)


class PreviewHubs:
    """One hub per camera of the session."""

    def __init__(self, cameras: Mapping[str, CameraSource], quality: int = 80) -> None:
        self.hubs = {name: PreviewHub(source, quality) for name, source in cameras.items()}

    def get(self, name: str) -> PreviewHub | None:
        return self.hubs.get(name)

    def close(self) -> None:
        for hub in self.hubs.values():
            hub.close()

    def stats(self) -> dict[str, dict[str, float]]:
        return {
            name: {
                "viewers": hub.viewer_count,
                "encodes": hub.encodes,
                "encodes_per_s": round(hub.encodes_per_second(), 2),
            }
            for name, hub in self.hubs.items()
        }
