"""The CPU budget's arithmetic: how many cores each part may take and whether the plan fits.

Pure functions over measured figures (no threads, no torch, no encoders): ``runtime/cpu_budget.py`` measures
and watches, this module decides. Figures and rules are explained where they are defined."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["INFERENCE_FIRST_SHARE", "LOOP_CORES", "MAX_TORCH_THREADS", "PRIOR_MS_PER_MEGAPIXEL", "EncoderPlan",
           "TorchPlan", "available_cores", "choose_preset", "encoder_share", "faster_presets", "judge",
           "more_torch_threads", "plan_torch_threads"]

LOOP_CORES = 0.35
"""What the control loop, camera capture, previews and the web server take together (cores), measured
with the sim robot, two cameras and two viewers at 30 Hz on the 2-core machine (about 0.25-0.35)."""

MAX_TORCH_THREADS = 8
"""More intra-op threads than this rarely speeds up a single-sample CPU inference and costs wake-ups."""

INFERENCE_FIRST_SHARE = 0.35
"""When asynchronous inference cannot keep up, torch gets another core only while what runs beside it (the
loop and the encoders, as measured) needs at most this share of the cores; the encoders, niced, then live in
the gaps torch leaves between chunks. Measured on 2 cores with ACT and two 480x640 cameras: H.264 ultrafast
(~0.15 core) beside 2 torch threads dropped no frame; SVT-AV1 (~0.5 core) beside them dropped 28 %."""

SVT_LADDER = ("12", "13")
X264_LADDER = ("veryfast", "superfast", "ultrafast")


def available_cores() -> int:
    """CPUs this process may run on (its affinity mask; ``os.cpu_count()`` where that is unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def encoder_share(cores: int) -> float:
    """Cores the video encoders may use together before the plan says it does not fit: at least half a
    core, and about a third of a bigger machine (the rest is for inference and the loop)."""
    return max(0.5, 0.35 * cores)


def faster_presets(vcodec: str, preset: str) -> list[str]:
    """``preset`` and the faster presets after it on the codec's ladder (no slower ones: the default is
    already the fastest that keeps quality; the ladder is only used when the encoders do not keep up)."""
    ladder = SVT_LADDER if vcodec == "libsvtav1" else X264_LADDER
    if preset not in ladder:
        return [preset]
    return list(ladder[ladder.index(preset):])


@dataclass
class TorchPlan:
    """Torch's intra-op thread count for the session's policy."""

    threads: int | None
    """None: the policy does not run torch on this CPU (scripted, remote, a GPU device)."""
    source: str
    """"flag" (--policy.torch_threads), "auto" (this plan) or "none"."""


def plan_torch_threads(cores: int, flag: int | None, uses_cpu_torch: bool, encoder_cores: float,
                       async_inference: bool = True) -> TorchPlan:
    """``flag`` when given; else the cores minus what runs beside inference, rounded to the nearest core
    (1..MAX_TORCH_THREADS): the video encoders, and the loop when inference runs asynchronously (a
    synchronous engine runs the policy on the control thread, in turn with the loop, not beside it).

    Rounding, not rounding up: on 2 cores a policy without recording gets both (measured with ACT: 1 thread
    0.99 s per chunk, 21 % slower than lerobot-rollout's rate in sync; 2 threads ~0.6 s), while two AV1
    cameras (~0.5 core) plus the loop leave it one."""
    if not uses_cpu_torch:
        return TorchPlan(flag, "flag" if flag is not None else "none")
    if flag is not None:
        return TorchPlan(flag, "flag")
    beside = encoder_cores + (LOOP_CORES if async_inference else 0.0)
    reserved = math.floor(beside + 0.5)
    return TorchPlan(max(1, min(MAX_TORCH_THREADS, cores - reserved)), "auto")


def more_torch_threads(cores: int, torch: TorchPlan, encoders: EncoderPlan | None) -> int | None:
    """The thread count to raise an automatic plan to when asynchronous inference cannot keep up, or None:
    a flag's value is never changed, all the cores are taken already, or the encoders are not measured yet
    or need too much to share (see ``INFERENCE_FIRST_SHARE``): then losing frames would be the price."""
    if torch.source != "auto" or torch.threads is None or torch.threads >= min(cores, MAX_TORCH_THREADS):
        return None
    encoder_cores = 0.0
    if encoders is not None:
        needed = encoders.cores_needed
        if needed is None:
            return None
        encoder_cores = needed
    if LOOP_CORES + encoder_cores > INFERENCE_FIRST_SHARE * cores + 1e-9:
        return None
    return torch.threads + 1


@dataclass
class EncoderPlan:
    """The encoder settings in force and what they cost."""

    vcodec: str
    preset: str
    preset_source: str
    """"flag" (--dataset.preset), "default" (not measured yet or fits), "auto" (a faster one was chosen)."""
    threads: int | None
    threads_source: str
    nice: int
    cameras: int
    fps: float
    cpu_ms_per_frame: dict[str, float] = field(default_factory=dict)
    """Measured cost of each preset tried (synthetic frames at the largest camera size)."""
    measured_live_ms: float | None = None
    """The camera workers' own figure while recording (wall ms per frame on their thread), once known."""
    probe_error: str | None = None

    @property
    def cores_needed(self) -> float | None:
        cost = self.cpu_ms_per_frame.get(self.preset)
        return None if cost is None else self.cameras * self.fps * cost / 1000.0

    def to_dict(self) -> dict[str, Any]:
        needed = self.cores_needed
        return {"vcodec": self.vcodec, "preset": self.preset, "preset_source": self.preset_source,
                "threads": self.threads, "threads_source": self.threads_source, "nice": self.nice,
                "cameras": self.cameras,
                "cpu_ms_per_frame": {k: round(v, 2) for k, v in self.cpu_ms_per_frame.items()},
                "cores_needed": None if needed is None else round(needed, 2), "probe_error": self.probe_error}


def choose_preset(plan: EncoderPlan, cores: int, measure: Any) -> None:
    """Measure the preset in force (``measure(preset) -> ms``); when the encoders would need more than
    ``encoder_share(cores)``, walk the codec's faster presets and keep the cheapest that fits (or the
    cheapest measured). A preset given by flag is measured but never changed."""
    candidates = [plan.preset] if plan.preset_source == "flag" else faster_presets(plan.vcodec, plan.preset)
    share = encoder_share(cores)
    best: str | None = None
    for preset in candidates:
        plan.cpu_ms_per_frame[preset] = float(measure(preset))
        if best is None or plan.cpu_ms_per_frame[preset] < plan.cpu_ms_per_frame[best]:
            best = preset
        if plan.cameras * plan.fps * plan.cpu_ms_per_frame[preset] / 1000.0 <= share:
            best = preset
            break
    if best is not None and best != plan.preset:
        plan.preset, plan.preset_source = best, "auto"


def judge(cores: int, encoders: EncoderPlan | None, torch: TorchPlan, async_inference: bool) -> tuple[bool | None, str | None]:
    """(fits, advice). ``fits`` is None while the encoder cost is still being measured."""
    if encoders is None:
        return True, None
    needed = encoders.cores_needed
    if needed is None:
        return (None, None) if encoders.probe_error is None else (None, f"encoder cost unknown: {encoders.probe_error}")
    share = encoder_share(cores)
    per_frame = encoders.cpu_ms_per_frame[encoders.preset]
    what = (f"the {encoders.cameras} video encoder(s) need {needed:.2f} of {cores} cores "
            f"({per_frame:.1f} ms per frame at {encoders.fps:g} fps, {encoders.vcodec} preset {encoders.preset})")
    if needed > share:
        fix = "record fewer or smaller cameras, or a lower --fps"
        if encoders.vcodec == "libsvtav1":
            fix += ", or --dataset.vcodec=h264 for a new dataset (cheaper to encode)"
        return False, f"{what}, more than the {share:.2f} they can be given: frames will be dropped; {fix}"
    inference = torch.threads if (torch.threads is not None and async_inference) else 0
    total = LOOP_CORES + needed + inference
    if total > cores + 1e-9:
        return False, (f"{what}; with the loop (~{LOOP_CORES:g}) and {inference} torch thread(s) that is "
                       f"{total:.2f} of {cores} cores: set --policy.torch_threads lower or record fewer cameras")
    return True, None



PRIOR_MS_PER_MEGAPIXEL = {"libsvtav1": 27.0, "h264": 24.0}
"""Encoder CPU per frame before the probe reports (ms per megapixel; measured on the 2-core machine:
SVT-AV1 preset 12 single-threaded ~8 ms, x264 veryfast ~7 ms for 640x480). Only the torch thread count,
decided before the policy loads, uses this prior."""
