"""CameraWorker: one thread per camera that encodes its frames, episode after episode.

The control thread talks to a worker only through the non-blocking methods ``start``, ``frame``,
``bulk``, ``end`` and ``stop`` (each is one queue put). Everything slow happens on the worker thread:
JPEG decoding of ring-buffer frames, RGB -> YUV, encoding, image statistics, flushing and probing the
finished file.

Spare encoders: opening an SVT-AV1 encoder (``avcodec_open2``) holds the GIL for 5-70 ms on a 2-core
machine. It used to happen right after every save, and the tick that wanted the GIL meanwhile waited
(measured: 19-60 ms ticks at a save against ~1 ms normally). So each worker keeps one encoder opened
ahead of time and ``start`` takes it: starting an episode costs no codec initialisation. The next spare
is requested ``SPARE_DELAY_S`` after an episode starts (once the previous episode's flush is over) from
the ``EncoderOpener``, which opens it at normal priority just after a control tick. Its file stays in
``staging/spare`` until the saver renames it into the dataset (recovery empties the whole staging area
on the next open). The price is one idle encoder per camera (~30 MB and ~47 threads for SVT-AV1 at
640x480), released at ``stop``.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import RecordingError
from .encoder_opener import EncoderOpener
from .fsio import make_dirs
from .layout import SPARE_DIR
from .ring_buffer import CompressedImage
from .stats import ImageStats, image_stride
from .video import VideoFileEncoder, VideoSettings, lower_thread_priority, probe_video
from .writer import CameraResult

__all__ = ["CameraWorker", "EpisodeToken"]

log = logging.getLogger(__name__)

SPARE_DELAY_S = 1.0
"""Wait this long after an episode starts before opening the next spare: right after a save the CPU is
busy flushing the previous episode's encoders, and a (low-priority) worker holding the GIL while it is
starved of CPU would stall the control loop for the whole open (measured 30-100 ms)."""

_START, _FRAME, _BULK, _END, _SPARE, _STOP = range(6)
_BULK_YIELD_S = 0.002
"""Pause after each ring-buffer frame: a drained ring is encoded flat out otherwise, and the workers'
GIL hand-offs then delayed the control thread (drain p99 lateness ~2x the probe's; with the pause on
par). It costs 2 ms x the prefix length per camera, once per highlight."""


class EpisodeToken:
    """Shared between the control thread and the workers for one episode."""

    __slots__ = ("cancelled", "uid")

    def __init__(self, uid: str) -> None:
        self.uid = uid
        self.cancelled = False


class CameraWorker:
    """Encodes one camera's frames into one staging file per episode (see the module docstring)."""

    def __init__(self, key: str, feature: Mapping[str, Any], fps: float, settings: VideoSettings | None,
                 staging: Path, opener: EncoderOpener | None = None) -> None:
        self.key = key
        height, width, channels = (int(v) for v in feature["shape"])
        self.shape = (height, width, channels)
        self.fps = fps
        self.settings = settings
        self.staging = staging
        self._name = key.replace("/", "_")
        self._queue: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        # each counter has a single writer thread, so no lock is needed
        self.submitted_live = 0
        self.submitted_bulk = 0
        self.done_live = 0
        self.done_bulk = 0
        self.encoded = 0
        self.spares_used = 0
        self.rate_samples: deque[tuple[float, int]] = deque(maxlen=16)
        self.last_error: str | None = None
        self._stride = image_stride(height, width)
        self._episode: dict[str, Any] | None = None
        self._spare: VideoFileEncoder | None = None
        self._spare_wanted = settings is not None
        self._spare_serial = 0
        self._spare_not_before = 0.0
        self._spare_requested = False
        self._opener = opener
        self._stopped = False
        self._handover = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"recorder-{key.rsplit('.', 1)[-1]}", daemon=True)
        self.thread.start()

    # ------------------------------------------------------------------ control thread (never blocks)

    def start(self, token: EpisodeToken) -> None:
        self._queue.put((_START, token))

    def frame(self, image: np.ndarray | CompressedImage) -> None:
        self.submitted_live += 1
        self._queue.put((_FRAME, image, True))

    def bulk(self, frames: Sequence[Mapping[str, Any]]) -> None:
        """Queue ring-buffer frames (whole frame dicts; this camera's image is taken from each)."""
        self.submitted_bulk += len(frames)
        self._queue.put((_BULK, frames))

    def end(self, token: EpisodeToken, future: Future[CameraResult]) -> None:
        self._queue.put((_END, token, future))

    def stop(self) -> None:
        self._queue.put((_STOP,))

    # ------------------------------------------------------------------ any thread

    @property
    def pending_live(self) -> int:
        return self.submitted_live - self.done_live

    @property
    def pending(self) -> int:
        return self.submitted_live - self.done_live + self.submitted_bulk - self.done_bulk

    def throughput(self, now: float, window: float = 2.0) -> float:
        """Frames per second encoded over the last ``window`` seconds (0 when idle)."""
        samples = [s for s in list(self.rate_samples) if now - s[0] <= window]
        if len(samples) < 2 or now - samples[-1][0] > 0.75:
            return 0.0
        return (samples[-1][1] - samples[0][1]) / max(1e-6, samples[-1][0] - samples[0][0])

    # ------------------------------------------------------------------ worker thread

    def _run(self) -> None:
        lower_thread_priority(self.settings.nice if self.settings is not None else VideoSettings().nice)
        while True:
            due = self._spare_due()
            try:
                item = self._queue.get() if due is None else self._queue.get(timeout=due)
            except queue.Empty:  # idle and the spare is due: ask for it
                self._request_spare()
                continue
            op = item[0]
            try:
                if op == _FRAME:
                    self._frame(item[1], item[2])
                elif op == _BULK:
                    for frame in item[1]:
                        self._frame(frame.get(self.key) if isinstance(frame, Mapping) else None, False)
                        time.sleep(_BULK_YIELD_S)
                elif op == _START:
                    self._start(item[1])
                elif op == _END:
                    self._end(item[1], item[2])
                elif op == _SPARE:
                    self._receive_spare(item[1], item[2])
                elif op == _STOP:
                    self._shut_down()
                    return
            except Exception as exc:  # the worker must survive anything a frame can do
                log.exception("recorder: camera %s worker error", self.key)
                self.last_error = f"{self.key}: {exc}"

    def _spare_due(self) -> float | None:
        """Seconds until the next spare encoder should be requested (None: none is needed now)."""
        if self._spare is not None or self._spare_requested or not self._spare_wanted:
            return None
        return max(0.0, self._spare_not_before - time.monotonic())

    def _request_spare(self) -> None:
        self._spare_requested = True
        if self._opener is not None:
            self._opener.request(self._make_spare, self._offer_spare)
        else:  # no opener (standalone use): open it here
            try:
                spare, error = self._make_spare(), None
            except Exception as exc:
                spare, error = None, exc
            self._receive_spare(spare, error)

    def _make_spare(self) -> VideoFileEncoder:  # on the opener thread (one request at a time per worker)
        assert self.settings is not None
        directory = self.staging / SPARE_DIR
        make_dirs(directory)
        self._spare_serial += 1
        path = directory / f"{self._name}-{os.getpid()}-{self._spare_serial:06d}.mp4"
        return VideoFileEncoder(path, self.shape[1], self.shape[0], self.fps, self.settings)

    def _offer_spare(self, spare: VideoFileEncoder | None, error: BaseException | None) -> bool:
        """Opener thread: queue the result for this worker; False once the worker has stopped."""
        with self._handover:
            if self._stopped:
                return False
            self._queue.put((_SPARE, spare, error))
            return True

    def _receive_spare(self, spare: VideoFileEncoder | None, error: BaseException | None) -> None:
        self._spare_requested = False
        if spare is None:  # the next episode opens its encoder itself and reports any error
            log.warning("recorder: camera %s could not pre-open an encoder: %s", self.key, error)
            self._spare_wanted = False
        elif self._spare is not None:
            spare.abort()
        else:
            self._spare = spare

    def _shut_down(self) -> None:
        with self._handover:
            self._stopped = True
        self._close_current()
        while True:  # spares handed over after STOP was queued
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item[0] == _SPARE and item[1] is not None:
                item[1].abort()
        if self._spare is not None:
            self._spare.abort()
            self._spare = None
        try:  # the last worker to let go removes the directory
            (self.staging / SPARE_DIR).rmdir()
        except OSError:
            pass

    def _start(self, token: EpisodeToken) -> None:
        self._close_current()
        state: dict[str, Any] = {"token": token, "frames": 0, "error": None, "stats": ImageStats(3, self._stride)}
        try:
            if self.settings is not None:
                spare, self._spare = self._spare, None
                self._spare_wanted = True
                self._spare_not_before = time.monotonic() + SPARE_DELAY_S
                if spare is not None:
                    self.spares_used += 1
                    state["encoder"] = spare
                else:
                    path = self._episode_dir(token) / f"{self._name}.mp4"
                    state["encoder"] = VideoFileEncoder(path, self.shape[1], self.shape[0], self.fps, self.settings)
            else:
                state["blob_path"] = self._episode_dir(token) / f"{self._name}.png.bin"
                state["blob"] = open(state["blob_path"], "wb")
                state["offsets"] = [0]
        except Exception as exc:
            state["error"] = f"cannot open the encoder: {exc}"
        self._episode = state

    def _episode_dir(self, token: EpisodeToken) -> Path:
        directory = self.staging / token.uid
        make_dirs(directory)
        return directory

    def _frame(self, image: Any, live: bool) -> None:
        state = self._episode
        try:
            if state is None or state["error"] is not None or state["token"].cancelled:
                return
            started = time.perf_counter()
            try:
                rgb = image.decode() if isinstance(image, CompressedImage) else image
                if not isinstance(rgb, np.ndarray) or rgb.shape != self.shape or rgb.dtype != np.uint8:
                    shape = getattr(rgb, "shape", None)
                    raise ValueError(f"frame {state['frames']} has shape {shape}, expected {self.shape} uint8")
                if "encoder" in state:
                    state["encoder"].encode(rgb)
                else:
                    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                                           [int(cv2.IMWRITE_PNG_COMPRESSION), 1])
                    if not ok:
                        raise ValueError("PNG encoding failed")
                    state["blob"].write(png.tobytes())
                    state["offsets"].append(state["offsets"][-1] + len(png))
                state["stats"].update(rgb)
                state["frames"] += 1
            except Exception as exc:
                state["error"] = str(exc)
                self.last_error = f"{self.key}: {exc}"
                return
            self.encoded += 1
            if not self.rate_samples or started - self.rate_samples[-1][0] >= 0.25:
                self.rate_samples.append((started, self.encoded))
        finally:
            if live:
                self.done_live += 1
            else:
                self.done_bulk += 1

    def _end(self, token: EpisodeToken, future: Future[CameraResult]) -> None:
        state = self._episode
        self._episode = None
        if state is None or state["token"] is not token:
            future.set_exception(RecordingError(f"camera {self.key}: episode {token.uid} was never started"))
            return
        if state["error"] is not None or token.cancelled:
            self._abort(state)
            reason = "cancelled" if token.cancelled else state["error"]
            future.set_exception(RecordingError(f"camera {self.key}: {reason}"))
            return
        try:
            if "encoder" in state:
                frames = state["encoder"].close()
                path = state["encoder"].path
                info, indexed = probe_video(path, self.settings)  # LeRobot 0.6's encoder fields too
                if indexed != frames:  # the muxed file must hold every frame we fed, no more, no less
                    raise RecordingError(f"the MP4 index lists {indexed} frames, {frames} were encoded")
                result = CameraResult(frames=frames, stats=_image_stats(state), video_path=path, video_info=info)
            else:
                blob = state["blob"]
                blob.flush()
                os.fsync(blob.fileno())
                blob.close()
                result = CameraResult(frames=state["frames"], stats=_image_stats(state),
                                      png_blob=state["blob_path"], png_offsets=state["offsets"])
            future.set_result(result)
        except Exception as exc:
            self._abort(state)
            future.set_exception(RecordingError(f"camera {self.key}: finishing the video failed: {exc}"))

    def _abort(self, state: dict[str, Any]) -> None:
        if "encoder" in state:
            state["encoder"].abort()
        if "blob" in state:
            state["blob"].close()
            state["blob_path"].unlink(missing_ok=True)
        try:  # the last camera to let go removes the episode's staging directory (if it made one)
            (self.staging / state["token"].uid).rmdir()
        except OSError:
            pass

    def _close_current(self) -> None:
        if self._episode is not None:
            self._abort(self._episode)
            self._episode = None


def _image_stats(state: dict[str, Any]) -> dict[str, np.ndarray]:
    if state["frames"] == 0:
        raise RecordingError("no frames were encoded")
    return state["stats"].result()
