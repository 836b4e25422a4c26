"""How much CPU one camera's encoder needs per frame, measured in a short-lived child process.

The CPU budget (``runtime/cpu_budget.py``) picks the speed preset from this figure before recording
starts. It is measured as CPU time (user + system, every encoder thread included, via the child's
``getrusage``), not wall time, so a busy machine makes the probe slower but not wrong. A child process
is used because the console's own process runs other threads (camera capture, the server) whose CPU
time would be counted too, and because SVT-AV1's threads end with the encoder and take their counters
with them; a child's ``RUSAGE_SELF`` keeps them all.

Frames are synthetic (a lit gradient, a moving object and sensor-like noise at the camera's size), so
the figure is an estimate; the camera workers measure the real one while recording.

Run as a module: ``python -m rollout_console.recording.encoder_probe '{"vcodec": ...}'`` prints one JSON
object ``{"cpu_ms_per_frame": ..., "frames": ...}``.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

__all__ = ["ProbeRequest", "measure_encoder_cpu", "synthetic_frames"]

PROBE_FRAMES = 24
PROBE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ProbeRequest:
    """One encoder configuration to measure (the fields of ``VideoSettings`` that change its speed)."""

    vcodec: str
    preset: str
    threads: int | None
    crf: int
    gop: int
    width: int
    height: int
    fps: float
    frames: int = PROBE_FRAMES


def synthetic_frames(width: int, height: int, count: int, seed: int = 0) -> list[np.ndarray]:
    """Camera-like RGB frames: a gradient, a square moving across it, and per-pixel noise (a real
    sensor's noise is what makes frames expensive to encode; a flat image would flatter the encoder)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([xs * 200 // max(1, width), ys * 200 // max(1, height), (xs + ys) * 100 // max(1, width + height)],
                    axis=-1).astype(np.int16) + 30
    frames = []
    side = max(8, min(width, height) // 5)
    for i in range(count):
        image = base.copy()
        x = (i * max(1, width // 40)) % max(1, width - side)
        y = height // 3
        image[y:y + side, x:x + side] = (220, 60, 40)
        image += rng.integers(-6, 7, size=image.shape, dtype=np.int16)
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
    return frames


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _probe(request: ProbeRequest) -> dict[str, float]:
    """In the child: encode ``request.frames`` frames and return CPU ms per frame (opening excluded)."""
    from .video import VideoFileEncoder, VideoSettings

    settings = VideoSettings(vcodec=request.vcodec, crf=request.crf, preset=request.preset, gop=request.gop,
                             threads=request.threads, nice=0)
    frames = synthetic_frames(request.width, request.height, request.frames)
    with tempfile.TemporaryDirectory(prefix="encoder-probe-") as tmp:
        encoder = VideoFileEncoder(Path(tmp) / "probe.mp4", request.width, request.height, request.fps, settings)
        started = _cpu_s()
        for frame in frames:
            encoder.encode(frame)
        encoder.close()
        used = _cpu_s() - started
    return {"cpu_ms_per_frame": 1000.0 * used / len(frames), "frames": float(len(frames))}


def measure_encoder_cpu(request: ProbeRequest, timeout_s: float = PROBE_TIMEOUT_S) -> float:
    """CPU milliseconds per frame for ``request``, measured in a child process; raises RuntimeError with
    the child's message when it fails (a codec or preset the local FFmpeg lacks) or times out."""
    try:
        done = subprocess.run([sys.executable, "-m", __name__, json.dumps(asdict(request))],
                              capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the encoder probe took longer than {timeout_s:.0f} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise RuntimeError(f"the encoder probe failed: {last}")
    try:
        return float(json.loads(done.stdout.strip().splitlines()[-1])["cpu_ms_per_frame"])
    except (ValueError, KeyError, IndexError) as exc:
        raise RuntimeError(f"the encoder probe printed no figure ({exc})") from None


_cache: dict[ProbeRequest, float] = {}
_cache_lock = threading.Lock()


def cached_encoder_cpu(request: ProbeRequest) -> float:
    """``measure_encoder_cpu`` once per configuration and process (a host's later sessions reuse it)."""
    with _cache_lock:
        if request in _cache:
            return _cache[request]
    value = measure_encoder_cpu(request)
    with _cache_lock:
        _cache[request] = value
    return value


def _main(argv: list[str]) -> int:
    os.nice(10)  # like the camera encoders: the console's control loop wins the CPU meanwhile
    request = ProbeRequest(**json.loads(argv[0]))
    print(json.dumps(_probe(request)))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
