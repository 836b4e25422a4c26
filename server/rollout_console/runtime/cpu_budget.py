"""The CPU budget: who gets how many cores (torch, the video encoders, the loop) and whether it fits.

On a small robot computer inference, the video encoders, the previews and the control loop share a few
cores. Left to defaults, torch takes every core at normal priority and the encoders (niced so the loop
wins) starve: episodes get cut and frames dropped (measured on 2 cores with ACT: 28 % of frames lost).
So the session plans the split before it starts, from what it can measure:

* **cores**: the CPUs this process may run on (``sched_getaffinity``: a container's or ``taskset``'s
  limit, not the machine's count);
* **encoder cost**: CPU ms per frame of each camera's encoder at the chosen preset, measured by
  ``recording.encoder_probe`` in a child process (in the background; until it reports, the figure is
  "measuring"), and afterwards by the camera workers while they record;
* **policy**: torch-based policies (flow, LeRobot) running on the CPU get the cores left beside the
  encoders (and the loop, for asynchronous inference), rounded (``plan_torch_threads``); a remote or GPU
  policy leaves the CPU to the rest.

Every automatic value has a flag that wins (``--policy.torch_threads``, ``--dataset.encoder_threads``,
``--dataset.preset``); status (``cpu_budget``) shows each value in force and where it came from. When the
plan does not fit (the encoders alone need more than their share, or everything together more than the
cores), ``fits`` is false and ``advice`` says what was measured and what to change; the page shows it.
The codec is never changed here: it is fixed per dataset (LeRobot's ``info.json`` holds one per video).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["LOOP_CORES", "MAX_TORCH_THREADS", "CpuBudget", "EncoderPlan", "TorchPlan", "available_cores", "encoder_share",
           "faster_presets", "plan_torch_threads", "judge"]

LOOP_CORES = 0.35
"""What the control loop, camera capture, previews and the web server take together (cores), measured
with the sim robot, two cameras and two viewers at 30 Hz on the 2-core machine (about 0.25-0.35)."""

MAX_TORCH_THREADS = 8
"""More intra-op threads than this rarely speeds up a single-sample CPU inference and costs wake-ups."""

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


BEHIND_S = 2.0
"""A camera whose encoder is this many seconds of frames behind is not keeping up: the budget moves the
recorder to the next faster preset (an automatic preset only), from the next encoder it opens."""


class CpuBudget:
    """The plan of one session (see the module docstring): built before the policy loads, measured in
    the background, watched while recording; ``status()`` is what ``/api/v1/status`` shows."""

    def __init__(self, cores: int, torch: TorchPlan, encoders: EncoderPlan | None, async_inference: bool,
                 publish: Any = None) -> None:
        self.cores = cores
        self.torch = torch
        self.encoders = encoders
        self.async_inference = async_inference
        self._emit = publish or (lambda kind, **data: None)
        self._lock = threading.Lock()
        self._workers: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.adaptations: list[str] = []
        self._encoder_verdict: tuple[bool | None, str | None] = (True, None) if encoders is None else (None, None)
        self._inference_advice: str | None = None
        self._engine_status: Any = None
        self._measure: Any = None
        self._fps = 0.0

    # ------------------------------------------------------------------ set-up

    def attach_workers(self, workers: dict[str, Any]) -> None:
        """The recorder's camera workers: their settings follow the preset in force, their backlog is watched."""
        with self._lock:
            self._workers = dict(workers)
            self._apply_preset_locked()

    def attach_engine(self, engine_status: Any, fps: float) -> None:
        """The inference engine's ``status`` (read once a second): whether asynchronous inference keeps up."""
        self._engine_status = engine_status
        self._fps = fps

    def attach_measure(self, measure: Any) -> None:
        """How to measure the encoder cost (``measure(preset) -> ms per frame``), used once started."""
        self._measure = measure

    def start(self) -> None:
        """Measure the encoder cost, then watch the encoders' backlog and the inference's pace, in a
        background thread (the session starts it with its loop and closes it when it ends or fails to
        start); nothing here blocks the session's start."""
        if self.encoders is None and self._engine_status is None:
            return
        self._thread = threading.Thread(target=self._run, args=(self._measure,), name="cpu-budget", daemon=True)
        self._thread.start()

    @property
    def fits(self) -> bool | None:
        """False when the encoders or the inference cannot keep up; None while the encoders are measured."""
        encoders_fit = self._encoder_verdict[0]
        if encoders_fit is False or self._inference_advice is not None:
            return False
        return encoders_fit

    @property
    def advice(self) -> str | None:
        parts = [text for text in (self._encoder_verdict[1], self._inference_advice) if text]
        return "; and ".join(parts) if parts else None

    def close(self) -> None:
        """Stop watching; a probe still running is not waited for (its child ends by itself within seconds)."""
        self._stop.set()

    # ------------------------------------------------------------------ background

    def _run(self, measure: Any) -> None:
        if self.encoders is not None and measure is not None:
            self._measure_encoders(measure)
        while not self._stop.wait(1.0):
            self._watch_backlog()
            self._watch_inference()

    def _measure_encoders(self, measure: Any) -> None:
        encoders = self.encoders
        assert encoders is not None
        try:
            choose_preset(encoders, self.cores, measure)
        except Exception as exc:  # a probe that fails leaves the settings as they are, and says so
            encoders.probe_error = str(exc)
        with self._lock:
            self._apply_preset_locked()
            self._encoder_verdict = judge(self.cores, encoders, self.torch, self.async_inference)
        if encoders.preset_source == "auto":
            self._emit("cpu_budget", level="warning", message=(
                f"video encoders: {encoders.vcodec} preset {encoders.preset} chosen (the default needs "
                f"more CPU than this machine can give them)"))
        verdict, advice = self._encoder_verdict
        if verdict is False and advice:
            self._emit("cpu_budget", level="warning", message=f"this machine cannot keep up: {advice}")

    def _watch_inference(self) -> None:
        """Asynchronous inference keeps up while a chunk's latency is at most half the chunk's duration
        (the next chunk must arrive before the actions left after the delay run out); say so once when it
        does not, with what was measured and what to change, and withdraw it once it does again."""
        if self._engine_status is None:
            return
        try:
            state = self._engine_status()
        except Exception:  # the engine is closing
            return
        latency = (state.get("latency_ms") or {}).get("p95")
        if state.get("keeps_up") is not False or (state.get("inferences") or 0) < 3 or latency is None:
            if state.get("keeps_up") is True:
                self._inference_advice = None
            return
        if self._inference_advice is not None:
            return
        chunk = int(state.get("chunk_size") or 0)
        chunk_s = chunk / self._fps if self._fps else 0.0
        threads = f"{self.torch.threads} torch thread{'s' if self.torch.threads != 1 else ''}" \
            if self.torch.threads else "its device"
        self._inference_advice = (
            f"inference takes {latency / 1000:.2f} s per chunk (p95, {threads}) but a {chunk}-action chunk lasts "
            f"{chunk_s:.2f} s, and asynchronous inference keeps up only below half of that ({chunk_s / 2:.2f} s): "
            "the robot will hold still between chunks; run the policy on a GPU (--policy.device=cuda, or "
            "--policy.type=remote on a GPU machine), or give torch more cores "
            f"(--policy.torch_threads={self.cores} with cheaper video, --dataset.vcodec=h264 "
            "--dataset.preset=ultrafast, or fewer cameras recorded)")
        self._emit("cpu_budget", level="warning", message=f"this machine cannot keep up: {self._inference_advice}")

    def _watch_backlog(self) -> None:
        encoders = self.encoders
        if encoders is None or encoders.preset_source == "flag":
            return
        with self._lock:
            workers = list(self._workers.values())
        behind = max((w.pending_live / max(1e-6, encoders.fps) for w in workers), default=0.0)
        if behind < BEHIND_S:
            return
        ladder = faster_presets(encoders.vcodec, encoders.preset)
        if len(ladder) < 2:
            return
        old, encoders.preset, encoders.preset_source = encoders.preset, ladder[1], "auto"
        with self._lock:
            self._apply_preset_locked()
        note = (f"video encoders fell {behind:.1f} s behind: preset {old} -> {encoders.preset} from the next "
                "episode")
        self.adaptations.append(note)
        self._emit("cpu_budget", level="warning", message=note)

    def _apply_preset_locked(self) -> None:
        encoders = self.encoders
        if encoders is None:
            return
        for worker in self._workers.values():
            settings = getattr(worker, "settings", None)
            if settings is not None and settings.preset != encoders.preset:
                worker.settings = replace(settings, preset=encoders.preset)

    # ------------------------------------------------------------------ reporting

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "cores": self.cores,
                "torch_threads": self.torch.threads,
                "torch_threads_source": self.torch.source,
                "encoders": None if self.encoders is None else self.encoders.to_dict(),
                "loop_cores": LOOP_CORES,
                "fits": self.fits,
                "advice": self.advice,
                "adaptations": list(self.adaptations),
            }


PRIOR_MS_PER_MEGAPIXEL = {"libsvtav1": 27.0, "h264": 24.0}
"""Encoder CPU per frame before the probe reports (ms per megapixel; measured on the 2-core machine:
SVT-AV1 preset 12 single-threaded ~8 ms, x264 veryfast ~7 ms for 640x480). Only the torch thread count,
decided before the policy loads, uses this prior."""


def plan_for_session(config: Any, camera_shapes: Mapping[str, tuple[int, ...]], publish: Any = None) -> CpuBudget:
    """The budget of a session built from ``config`` (a RolloutConsoleConfig) with these cameras."""
    from ..config.dataset import default_preset
    from ..recording.video import VideoSettings

    cores = available_cores()
    policy = config.policy
    device = str(getattr(policy, "device", "cpu"))
    uses_cpu_torch = policy.type in ("flow", "lerobot") and device.startswith("cpu")
    dataset = config.dataset
    encoders: EncoderPlan | None = None
    prior_cores = 0.0
    if dataset is not None and dataset.video and camera_shapes:
        height, width = max(((int(s[0]), int(s[1])) for s in camera_shapes.values()), key=lambda hw: hw[0] * hw[1])
        settings = VideoSettings(vcodec=dataset.vcodec, crf=dataset.crf, preset=dataset.preset, gop=dataset.gop,
                                 threads=dataset.encoder_threads, nice=dataset.encoder_nice)
        fps = float(dataset.fps or config.fps)
        encoders = EncoderPlan(
            vcodec=dataset.vcodec, preset=dataset.preset or default_preset(dataset.vcodec),
            preset_source="flag" if dataset.preset is not None else "default",
            threads=settings.threads_for(width, height),
            threads_source="flag" if dataset.encoder_threads is not None else "auto",
            nice=dataset.encoder_nice, cameras=len(camera_shapes), fps=fps)
        prior_cores = len(camera_shapes) * fps * PRIOR_MS_PER_MEGAPIXEL[dataset.vcodec] * width * height / 1e9
    async_inference = config.inference.type != "sync"
    torch = plan_torch_threads(cores, getattr(policy, "torch_threads", None), uses_cpu_torch, prior_cores,
                               async_inference)
    return CpuBudget(cores, torch, encoders, async_inference=async_inference, publish=publish)


def encoder_measure(budget: CpuBudget, crf: int, gop: int, size: tuple[int, int]) -> Any:
    """``preset -> CPU ms per frame`` for the budget's encoders (the probe, cached per process)."""
    from ..recording.encoder_probe import ProbeRequest, cached_encoder_cpu

    encoders = budget.encoders
    assert encoders is not None
    height, width = size

    def measure(preset: str) -> float:
        return cached_encoder_cpu(ProbeRequest(vcodec=encoders.vcodec, preset=preset, threads=encoders.threads,
                                               crf=crf, gop=gop, width=width, height=height, fps=encoders.fps))
    return measure


def apply_torch_threads(budget: CpuBudget) -> None:
    """Set torch's intra-op threads to the plan (process-wide: the console serves one policy at a time)."""
    if budget.torch.threads is None or budget.torch.source == "none":
        return
    import torch

    torch.set_num_threads(budget.torch.threads)
