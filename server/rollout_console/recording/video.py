"""MP4 encoding and probing with PyAV (FFmpeg): one file per camera per episode.

Frames are numbered 0..N-1 with a time base of 1/fps, so frame ``i`` decodes at ``i / fps`` exactly as
the parquet ``timestamp`` column says. RGB -> YUV 4:2:0 conversion is done by OpenCV (it releases the
GIL); encoding runs inside FFmpeg (PyAV releases the GIL around it), so encoder threads leave the control
thread alone.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from ..config.dataset import default_preset
from .fsio import fsync_file

__all__ = [
    "VideoFileEncoder",
    "VideoSettings",
    "count_video_frames",
    "decode_video",
    "demote_realtime_threads",
    "fps_fraction",
    "lower_thread_priority",
    "encoder_info",
    "probe_video_info",
]

os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints banners and notices at the default level

_CODECS = {"libsvtav1": "libsvtav1", "h264": "libx264"}


def demote_realtime_threads() -> int:
    """Move every real-time (SCHED_FIFO/RR) thread of this process back to normal scheduling.

    SVT-AV1 creates its ~50 worker threads per encoder as SCHED_FIFO priority 99 whenever it is
    allowed to, i.e. when the process runs as root (a container, a robot's system service). Real-time
    threads preempt every normal thread, so a busy encoder froze the control loop for up to 0.95 s (the
    kernel's RT throttling limit) in measurements on a 2-core machine, in-process or in a subprocess
    alike. The console uses no real-time threads of its own, so all of them are demoted. Returns how
    many threads were changed; a no-op where the OS lacks the calls.
    """
    if not hasattr(os, "sched_getscheduler"):
        return 0
    changed = 0
    try:
        tids = [int(name) for name in os.listdir("/proc/self/task")]
    except OSError:
        return 0
    realtime = (os.SCHED_FIFO, os.SCHED_RR)
    for tid in tids:
        try:
            if os.sched_getscheduler(tid) in realtime:
                os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
                changed += 1
        except OSError:  # the thread ended meanwhile, or we may not change it
            continue
    return changed


def lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's nice value (Linux: per thread, inherited by the threads it creates).

    Encoder workers call this before opening a codec, so the codec's own threads start with the same
    lower priority and the control thread wins the CPU when it wakes up.
    """
    if nice <= 0 or not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, nice))
    except OSError:
        pass


def fps_fraction(fps: float) -> Fraction:
    """An exact rational frame rate (30 -> 30/1, 29.97 -> 2997/100)."""
    return Fraction(str(fps)).limit_denominator(100_000)


SVT_AUTO_THREADS = 1
SVT_AUTO_MAX_PIXELS = 1280 * 720
"""Up to 720p, SVT-AV1 runs single-threaded (``lp=1``) unless told otherwise. Measured on the 2-core
machine (preset 12): 640x480 encodes at ~175 fps with lp=1 against ~230 with the codec's default, 720p
at ~71 against ~79, i.e. still 2-5x real time per camera; but opening the encoder costs 6-13 ms of CPU
instead of 16-100 ms (far worse while other encoders run), creates ~16 threads instead of ~47, and the
GIL is held for the whole open. Larger frames keep the codec's default."""


@dataclass(frozen=True)
class VideoSettings:
    """How camera streams are encoded (from DatasetConfig)."""

    vcodec: str = "libsvtav1"
    crf: int = 30
    preset: str | None = None
    gop: int = 2
    threads: int | None = None
    pix_fmt: str = "yuv420p"
    nice: int = 10
    """Nice value of the encoder threads (the control thread keeps 0 and wins the CPU)."""

    @property
    def codec_name(self) -> str:
        return _CODECS[self.vcodec]

    def threads_for(self, width: int, height: int) -> int | None:
        """Encoder threads for a frame size: the configured value, else SVT_AUTO_THREADS up to
        SVT_AUTO_MAX_PIXELS for libsvtav1, else None (the codec decides)."""
        if self.threads is not None:
            return self.threads
        if self.vcodec == "libsvtav1" and width * height <= SVT_AUTO_MAX_PIXELS:
            return SVT_AUTO_THREADS
        return None

    def options(self, width: int = 0, height: int = 0) -> dict[str, str]:
        options = {"crf": str(self.crf), "g": str(self.gop), "preset": self.preset or default_preset(self.vcodec)}
        threads = self.threads_for(width, height) if width and height else self.threads
        if threads is not None:
            if self.vcodec == "libsvtav1":
                options["svtav1-params"] = f"lp={threads}"
            else:
                options["threads"] = str(threads)
        return options


class VideoFileEncoder:
    """Encodes HWC uint8 RGB frames into one MP4 file; ``close`` writes the index and fsyncs."""

    def __init__(self, path: Path, width: int, height: int, fps: float, settings: VideoSettings) -> None:
        self.path = path
        self.width = width
        self.height = height
        self.frames = 0
        self._fast_yuv = width % 2 == 0 and height % 2 == 0 and settings.pix_fmt == "yuv420p"
        self._container = av.open(str(path), mode="w", format="mp4")
        try:
            rate = fps_fraction(fps)
            stream = self._container.add_stream(settings.codec_name, rate=rate, options=settings.options(width, height))
            if not isinstance(stream, VideoStream):
                raise ValueError(f"{settings.codec_name} is not a video codec")
            stream.width = width
            stream.height = height
            stream.pix_fmt = settings.pix_fmt
            stream.codec_context.time_base = 1 / rate
            stream.codec_context.open()  # the codec creates its threads now, so they can be demoted now
            self._stream = stream
        except Exception:
            self._container.close()
            raise
        demote_realtime_threads()

    def encode(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise ValueError(f"frame of shape {rgb.shape} {rgb.dtype}; expected ({self.height}, {self.width}, 3) uint8")
        if self._fast_yuv:
            yuv = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        else:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self.frames
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> int:
        """Flush the encoder, write the MP4 index (moov), fsync; returns the number of frames."""
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        fsync_file(self.path)
        return self.frames

    def abort(self) -> None:
        try:
            self._container.close()
        except Exception:  # a half-open container may refuse to finalise; the file is removed anyway
            pass
        self.path.unlink(missing_ok=True)


def probe_video_info(path: Path) -> dict[str, Any]:
    """The ``info`` block LeRobot stores for a video feature, read from an encoded file."""
    return probe_video(path)[0]


def stream_rate(rate: Any) -> Fraction | None:
    """A stream rate as a Fraction, whatever PyAV returned: ``fractions.Fraction`` (PyAV <= 18) or
    ``av.rational.AVRational`` (PyAV 19), which has numerator/denominator and float() but no int()."""
    if rate is None:
        return None
    numerator, denominator = getattr(rate, "numerator", None), getattr(rate, "denominator", None)
    if isinstance(numerator, int) and isinstance(denominator, int):
        return Fraction(numerator, denominator) if denominator else None
    return Fraction(float(rate)).limit_denominator(1_000_000)


def encoder_info(settings: VideoSettings) -> dict[str, Any]:
    """The encoder fields LeRobot 0.6 stores in a video feature's ``info`` (``video.g``, ``video.crf``,
    ``video.preset``, ``video.fast_decode``, ``video.video_backend``, ``video.extra_options``), with its
    types: a numeric preset is a number (LeRobot's ``VideoEncoderConfig.preset: int | str``). LeRobot's
    own tools (``lerobot-edit-dataset``, aggregation, re-encoding) read them back as the encoder config."""
    preset: int | str = settings.preset or default_preset(settings.vcodec)
    if isinstance(preset, str) and preset.isdigit():
        preset = int(preset)
    return {"video.g": settings.gop, "video.crf": settings.crf, "video.preset": preset, "video.fast_decode": 0,
            "video.video_backend": "pyav", "video.extra_options": {}}


def probe_video(path: Path, settings: VideoSettings | None = None) -> tuple[dict[str, Any], int]:
    """(``info`` block, frame count from the MP4 index) without decoding; the block has LeRobot 0.6's
    fields and order, with the encoder fields when ``settings`` (how the file was encoded) is given."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = int(stream.frames or 0)
        pix_fmt = stream.codec_context.pix_fmt or "yuv420p"
        channels = 3 if pix_fmt.startswith(("yuv", "rgb", "bgr", "gbr")) and not pix_fmt.startswith("yuva") else 4
        if pix_fmt.startswith("gray"):
            channels = 1
        rate = stream_rate(stream.base_rate or stream.average_rate)
        info = {
            "video.height": stream.codec_context.height,
            "video.width": stream.codec_context.width,
            "video.codec": stream.codec_context.codec.canonical_name,
            "video.pix_fmt": pix_fmt,
            "video.fps": int(rate) if rate is not None and rate.denominator == 1 else float(rate or 0),
            "video.channels": channels,
            "has_audio": len(container.streams.audio) > 0,
        }
    if settings is not None:
        info.update(encoder_info(settings))
    info["is_depth_map"] = False  # LeRobot 0.6's key (0.4 wrote "video.is_depth_map")
    return info, frames


def frame_time(frame: VideoFrame, time_base: Fraction | None, path: Path) -> float:
    """A decoded frame's presentation time in seconds (an MP4 frame without one is a broken file)."""
    if frame.pts is None or time_base is None:
        raise ValueError(f"{path}: a video frame has no presentation time")
    return float(frame.pts * time_base)


def decode_video(path: Path) -> tuple[list[float], list[np.ndarray]]:
    """Every frame of the first video stream: presentation times (s) and RGB arrays."""
    times: list[float] = []
    frames: list[np.ndarray] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            times.append(frame_time(frame, stream.time_base, path))
            frames.append(frame.to_ndarray(format="rgb24"))
    return times, frames


def count_video_frames(path: Path) -> tuple[int, list[float], tuple[int, int]]:
    """Decode every frame (the only trustworthy count): (count, presentation times, (height, width))."""
    times: list[float] = []
    size = (0, 0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            times.append(frame_time(frame, stream.time_base, path))
            size = (frame.height, frame.width)
    return len(times), times, size
