"""Bounded history of recent frames for the highlight strategy ("keep the last N seconds").

The ring is bounded by time (``max_seconds`` at the session fps) and by memory (``max_bytes``), with
exact accounting: ``bytes_used`` is always the sum of the bytes the ring really holds (ndarray
``nbytes``, JPEG bytes, string lengths, 8 bytes per number), and every eviction subtracts what it
removes, whichever bound caused it. (LeRobot's ring forgets to subtract on its deque's own eviction, so
its estimate climbs to the cap and stays there.)

With ``jpeg_quality`` set, a worker thread compresses camera images after they are appended, never on
the caller: a frame is accounted raw until its compressed form replaces it. Compressed images are
``CompressedImage`` objects that the recorder decodes in its own workers, so ``drain()`` into a new
episode costs the caller O(1) per frame.

Thread safety: ``append``, ``drain``, ``clear`` and the properties may be called from any thread; the
compressor only swaps an entry in place if that entry is still in the ring (not evicted, drained or
cleared), so drained frames are never mutated afterwards.

``drain()`` is O(1) whatever the ring holds (a highlight ``mark`` runs it on the control thread): it
takes the ring's deque as it is and starts a new one, and retires every drained entry at once by
advancing the ring's generation instead of flagging entries one by one. The frames come back as
``DrainedFrames``, a read-only sequence over the taken entries (nothing is copied), which the recorder
hands on to its workers as it is.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

__all__ = ["CompressedImage", "DrainedFrames", "FrameRing", "frame_nbytes"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompressedImage:
    """A JPEG-compressed HWC uint8 image (channel order preserved: RGB in, RGB out)."""

    data: bytes
    shape: tuple[int, int, int]

    @property
    def nbytes(self) -> int:
        return len(self.data)

    @classmethod
    def encode(cls, image: np.ndarray, quality: int = 90) -> CompressedImage:
        # OpenCV treats the 3 channels as BGR; decoding applies the exact inverse mapping, so an RGB
        # array comes back RGB without spending two colour conversions.
        ok, buffer = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
        if not ok:
            raise ValueError("JPEG encoding failed")
        return cls(buffer.tobytes(), tuple(int(v) for v in image.shape))  # type: ignore[arg-type]

    def decode(self) -> np.ndarray:
        image = cv2.imdecode(np.frombuffer(self.data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None or image.shape != self.shape:
            raise ValueError(f"corrupt JPEG frame (expected shape {self.shape})")
        return image


def _value_nbytes(value: Any) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, CompressedImage):
        return len(value.data)
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, (bool, int, float, np.generic)):
        return 8
    if isinstance(value, Mapping):
        return sum(_value_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_value_nbytes(v) for v in value)
    return 0


def frame_nbytes(frame: Mapping[str, Any]) -> int:
    """The bytes a frame holds, by the ring's definition (see the module docstring)."""
    return sum(_value_nbytes(v) for v in frame.values())


class _Entry:
    __slots__ = ("alive", "frame", "generation", "nbytes")

    def __init__(self, frame: dict[str, Any], nbytes: int) -> None:
        self.frame = frame
        self.nbytes = nbytes
        self.generation = 0  # the ring's generation when appended (set under its lock); a drain retires it
        self.alive = True  # False once evicted


class DrainedFrames(Sequence[dict[str, Any]]):
    """The frames a ``drain`` took, oldest first: a read-only view over the ring's entries (no copy).

    Iterating and ``len`` are what the recorder uses; indexing works too (O(n) towards the middle).
    Compares equal to any sequence holding the same frames, e.g. ``[]`` for an empty drain.
    """

    __slots__ = ("_entries",)

    def __init__(self, entries: deque[_Entry]) -> None:
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (entry.frame for entry in self._entries)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [entry.frame for entry in list(self._entries)[index]]
        return self._entries[index].frame

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a is b or a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container semantics, like list

    def __repr__(self) -> str:
        return f"DrainedFrames({len(self)} frames)"


class FrameRing:
    """Ring of frame dicts bounded by seconds and bytes; optional JPEG compression in a worker thread."""

    def __init__(
        self,
        max_seconds: float,
        fps: float,
        max_bytes: int,
        jpeg_quality: int | None = None,
        image_keys: tuple[str, ...] | None = None,
    ) -> None:
        if max_seconds <= 0 or fps <= 0 or max_bytes <= 0:
            raise ValueError("max_seconds, fps and max_bytes must be positive")
        self.fps = float(fps)
        self.max_frames = max(1, round(max_seconds * fps))
        self.max_bytes = int(max_bytes)
        self.jpeg_quality = jpeg_quality
        self.image_keys = image_keys
        self._entries: deque[_Entry] = deque()
        self._generation = 0  # advanced by every drain: entries of an older generation left the ring
        self._bytes = 0
        self._lock = threading.Lock()
        self.evicted_frames = 0
        self.compressed_frames = 0
        self._queue: queue.SimpleQueue[_Entry | None] | None = None
        self._thread: threading.Thread | None = None
        if jpeg_quality is not None:
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._compress_loop, name="ring-jpeg", daemon=True)
            self._thread.start()

    # ------------------------------------------------------------------ caller side

    def append(self, frame: Mapping[str, Any]) -> None:
        """Add the newest frame; the oldest ones go when a bound is exceeded. O(1) amortised."""
        entry = _Entry(dict(frame), frame_nbytes(frame))
        with self._lock:
            entry.generation = self._generation
            self._entries.append(entry)
            self._bytes += entry.nbytes
            while self._entries and (len(self._entries) > self.max_frames or self._bytes > self.max_bytes):
                old = self._entries.popleft()
                old.alive = False
                self._bytes -= old.nbytes
                self.evicted_frames += 1
        if self._queue is not None and self._holds(entry):
            self._queue.put(entry)

    def drain(self) -> DrainedFrames:
        """Remove and return every frame, oldest first (raw arrays and/or CompressedImage values). O(1)."""
        with self._lock:
            entries = self._entries
            self._entries = deque()
            self._bytes = 0
            self._generation += 1
        return DrainedFrames(entries)

    def clear(self) -> None:
        self.drain()

    def close(self) -> None:
        """Stop the compression worker (the ring stays usable, uncompressed)."""
        if self._queue is not None:
            self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._queue = None
        self._thread = None

    # ------------------------------------------------------------------ properties

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def seconds(self) -> float:
        return len(self._entries) / self.fps

    @property
    def bytes_used(self) -> int:
        return self._bytes

    @property
    def fill(self) -> float:
        """How full the ring is against its tighter bound, 0..1."""
        with self._lock:
            return min(1.0, max(len(self._entries) / self.max_frames, self._bytes / self.max_bytes))

    def accounted_bytes(self) -> int:
        """Recount from the held frames (for checks): always equals ``bytes_used``."""
        with self._lock:
            return sum(frame_nbytes(e.frame) for e in self._entries)

    # ------------------------------------------------------------------ compression worker

    def _is_image(self, key: str, value: Any) -> bool:
        if self.image_keys is not None:
            return key in self.image_keys and isinstance(value, np.ndarray)
        return isinstance(value, np.ndarray) and value.ndim == 3 and value.dtype == np.uint8 and value.shape[2] == 3

    def _holds(self, entry: _Entry) -> bool:
        """The entry is still in the ring: neither evicted nor taken by a drain (or clear)."""
        return entry.alive and entry.generation == self._generation

    def _compress_loop(self) -> None:
        assert self._queue is not None
        work_queue = self._queue
        while True:
            entry = work_queue.get()
            if entry is None:
                return
            if not self._holds(entry):
                continue
            try:
                replaced = {
                    k: CompressedImage.encode(v, self.jpeg_quality or 90) if self._is_image(k, v) else v
                    for k, v in entry.frame.items()
                }
            except Exception:  # a frame that cannot be compressed stays raw
                log.exception("ring buffer: JPEG compression failed; the frame stays uncompressed")
                continue
            size = frame_nbytes(replaced)
            with self._lock:
                if self._holds(entry):
                    self._bytes += size - entry.nbytes
                    entry.frame = replaced
                    entry.nbytes = size
                    self.compressed_frames += 1
