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
  policy leaves the CPU to the rest. When asynchronous inference then cannot keep up and the rest is cheap
  (no recording, or cheap video), torch gets another core while running (``more_torch_threads``).

Every automatic value has a flag that wins (``--policy.torch_threads``, ``--dataset.encoder_threads``,
``--dataset.preset``); status (``cpu_budget``) shows each value in force and where it came from. When the
plan does not fit (the encoders alone need more than their share, or everything together more than the
cores), ``fits`` is false and ``advice`` says what was measured and what to change; the page shows it.
The codec is never changed here: it is fixed per dataset (LeRobot's ``info.json`` holds one per video).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .cpu_plan import (
    LOOP_CORES,
    MAX_TORCH_THREADS,
    PRIOR_MS_PER_MEGAPIXEL,
    EncoderPlan,
    TorchPlan,
    available_cores,
    choose_preset,
    encoder_share,
    faster_presets,
    judge,
    more_torch_threads,
    plan_torch_threads,
)

__all__ = ["LOOP_CORES", "MAX_TORCH_THREADS", "CpuBudget", "EncoderPlan", "TorchPlan", "available_cores", "choose_preset",
           "encoder_share", "faster_presets", "judge", "plan_for_session", "plan_torch_threads"]


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
        self._judge_after = 0
        """Inference count from which the pace is judged again (after torch was given another core)."""
        self._threads_follow = False
        """Whether the inference thread applies the plan before each chunk (``inference_hook``)."""
        self._raised_from: int | None = None
        """The planned torch thread count while the budget has given torch more (to give back)."""
        self._no_more_raises = False
        """Set once a raise was given back: the encoders showed they need that core."""
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
        (the next chunk must arrive before the actions left after the delay run out). When it does not, an
        automatic torch plan first gets another core where what runs beside it leaves room
        (``more_torch_threads``; applied by the inference thread before its next chunk) and is judged again
        on fresh figures; otherwise say so once, with what was measured and what to change, and withdraw it
        once inference keeps up again."""
        if self._engine_status is None:
            return
        try:
            state = self._engine_status()
        except Exception:  # the engine is closing
            return
        latency = (state.get("latency_ms") or {}).get("p95")
        inferences = int(state.get("inferences") or 0)
        if state.get("keeps_up") is not False or inferences < max(3, self._judge_after) or latency is None:
            if state.get("keeps_up") is True:
                self._inference_advice = None
            return
        if self._inference_advice is not None:
            return
        chunk = int(state.get("chunk_size") or 0)
        chunk_s = chunk / self._fps if self._fps else 0.0
        behind = (f"inference takes {latency / 1000:.2f} s per chunk (p95, {self._threads_text()}) but a {chunk}-action "
                  f"chunk lasts {chunk_s:.2f} s, and asynchronous inference keeps up only below half of that "
                  f"({chunk_s / 2:.2f} s)")
        raised = None
        if self._threads_follow and not self._no_more_raises:
            raised = more_torch_threads(self.cores, self.torch, self.encoders)
        if raised is not None:
            old, self.torch = self.torch.threads, replace(self.torch, threads=raised)
            if self._raised_from is None:
                self._raised_from = old
            # the engine's delay window (its last inferences) must refill with chunks at the new width
            self._judge_after = inferences + max(3, len(state.get("delay_window") or ()))
            note = f"{behind}: torch threads {old} -> {raised} from the next chunk"
            self.adaptations.append(note)
            self._emit("cpu_budget", level="warning", message=note)
            return
        if self.torch.threads is not None and self.torch.threads < min(self.cores, MAX_TORCH_THREADS):
            more = (f"record cheaper video so torch can have more cores (--dataset.vcodec=h264 "
                    f"--dataset.preset=ultrafast for a new dataset, or fewer cameras recorded), or set "
                    f"--policy.torch_threads={self.cores}")
        else:
            more = "use a faster policy (fewer cameras or a smaller image), or a longer chunk"
        self._inference_advice = (
            f"{behind}: the robot will hold still between chunks; run the policy on a GPU (--policy.device=cuda, "
            f"or --policy.type=remote on a GPU machine), or {more}")
        self._emit("cpu_budget", level="warning", message=f"this machine cannot keep up: {self._inference_advice}")

    def _threads_text(self) -> str:
        threads = self.torch.threads
        return f"{threads} torch thread{'s' if threads != 1 else ''}" if threads else "its device"

    def inference_hook(self) -> Callable[[], None]:
        """What the inference thread calls before each chunk; once it is handed out, the budget may change
        torch's thread count while running (without it a change would show in status but never apply)."""
        self._threads_follow = True
        return self.apply_torch_threads_here

    def apply_torch_threads_here(self) -> None:
        """Set torch's thread count in the calling thread to the plan in force: the inference thread calls
        this before each chunk, since torch's OpenMP thread count belongs to the thread that sets it (a change
        made from the budget's own thread would never reach the inference)."""
        threads = self.torch.threads
        if threads is None or self.torch.source == "none":
            return
        import torch

        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    def _watch_backlog(self) -> None:
        """A camera's encoder 2 s behind: one preset faster (an automatic preset), else give back a core
        the budget gave torch (``_give_back_torch_core``)."""
        encoders = self.encoders
        if encoders is None:
            return
        with self._lock:
            workers = list(self._workers.values())
        behind = max((w.pending_live / max(1e-6, encoders.fps) for w in workers), default=0.0)
        if behind < BEHIND_S:
            return
        ladder = faster_presets(encoders.vcodec, encoders.preset) if encoders.preset_source != "flag" else []
        if len(ladder) < 2:
            self._give_back_torch_core(behind)
            return
        old, encoders.preset, encoders.preset_source = encoders.preset, ladder[1], "auto"
        with self._lock:
            self._apply_preset_locked()
            if encoders.cores_needed is not None:  # measured on the way down the ladder: judge what is in force
                self._encoder_verdict = judge(self.cores, encoders, self.torch, self.async_inference)
        note = (f"video encoders fell {behind:.1f} s behind: preset {old} -> {encoders.preset} from the next "
                "episode")
        self.adaptations.append(note)
        self._emit("cpu_budget", level="warning", message=note)

    def _give_back_torch_core(self, behind: float) -> None:
        """The encoders fell behind with no faster preset left, after torch was given more cores: recording
        comes first (frames lost are data lost; a robot holding still is visible and recorded), so torch goes
        back to its planned count, for the rest of the session."""
        if self._raised_from is None:
            return
        old, self.torch = self.torch.threads, replace(self.torch, threads=self._raised_from)
        self._raised_from, self._no_more_raises = None, True
        note = (f"video encoders fell {behind:.1f} s behind with {old} torch threads: torch back to "
                f"{self.torch.threads} from the next chunk (recording comes first)")
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
