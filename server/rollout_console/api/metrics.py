"""Prometheus ``/metrics``: loop timing, commands, episodes, uploads, cameras and inference.

``install_metrics(app, host, hubs)`` adds ``GET /metrics`` (Prometheus text format) to one app.
Every app gets its own ``CollectorRegistry`` (never the process-global one), so many apps in one
process (tests, notebooks) never collide.

Where the numbers come from:

* counters fed by the server's EventBus (every session): ``command`` (name, accepted, source), ``episode_saved``,
  ``episode_failed``, ``upload_progress`` / ``upload_done`` (bytes), ``upload_failed``;
* the loop's lateness window, folded into a histogram by a sampler thread that runs while the session
  runs (every sample is counted once, however rarely Prometheus scrapes) and again at each scrape;
* values read at scrape time: loop tick/overrun counters, camera fps and frame age, recorder dropped
  frames and backlog, inference latency and counters (``engine.status()``), preview encoders, phase.

Reading never blocks the control loop: everything is a snapshot or an atomic counter.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from ..protocol.events import Event
from ..protocol.phases import Phase
from ..runtime.facade import SessionFigures

__all__ = ["LATENESS_BUCKETS", "SessionMetrics", "install_metrics"]

log = logging.getLogger(__name__)

PREFIX = "rollout_console"
LATENESS_BUCKETS = (0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
SAVE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_SAMPLE_INTERVAL_S = 0.5


class SessionMetrics:
    """The metrics of one server (its host's sessions, one after another), in their own registry.

    Counters run for the life of the server (events of every session); values read at scrape time come
    from the running session, or the last one while idle. ``exposition()`` renders them.
    """

    def __init__(self, host: Any, hubs: Any = None, registry: CollectorRegistry | None = None) -> None:
        self.host = host
        self.hubs = hubs
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry
        self.lateness = Histogram(f"{PREFIX}_loop_lateness_seconds", "How late each control-loop tick woke up "
                                  "after its deadline", buckets=LATENESS_BUCKETS, registry=r)
        self.commands = Counter(f"{PREFIX}_commands_total", "Operator commands by name, result and input",
                                ["name", "result", "source"], registry=r)
        self.episodes_saved = Counter(f"{PREFIX}_episodes_saved_total", "Episodes saved durably", registry=r)
        self.episodes_failed = Counter(f"{PREFIX}_episodes_failed_total", "Episodes whose save failed", registry=r)
        self.save_latency = Histogram(f"{PREFIX}_episode_save_seconds", "From the save request to the episode "
                                      "being durable", buckets=SAVE_BUCKETS, registry=r)
        self.upload_bytes = Counter(f"{PREFIX}_upload_bytes_total", "Bytes sent to the Hugging Face Hub",
                                    registry=r)
        self.uploads = Counter(f"{PREFIX}_uploads_total", "Hub uploads completed", registry=r)
        self.upload_failures = Counter(f"{PREFIX}_upload_failures_total", "Hub upload attempts that failed",
                                       ["will_retry"], registry=r)
        r.register(_SnapshotCollector(self))
        self._fold_lock = threading.Lock()
        self._ticks_seen = 0
        self._ticks_of: str | None = None  # the session whose ticks _ticks_seen counts
        self._upload_bytes_seen = 0  # bytes_done already counted in the current upload attempt
        self._sampler: threading.Thread | None = None
        self._sampler_stop = threading.Event()
        self._unsubscribe = host.events.subscribe(self._on_event)
        session = self.session
        if session is not None and getattr(session.loop, "running", False):
            self._start_sampler()

    @property
    def session(self) -> Any:
        """The running session, else the last one (None before the first)."""
        return self.host.last_session

    # ------------------------------------------------------------------ events

    def _on_event(self, event: Event) -> None:  # publisher's thread: quick, never raises out
        data = event.data
        kind = event.kind
        if kind == "command":
            result = "accepted" if data.get("accepted") else "rejected"
            # "rest:<client id>" -> "rest": one series per input, not per browser tab
            source = str(data.get("source") or "unknown").split(":", 1)[0]
            self.commands.labels(str(data.get("name")), result, source).inc()
        elif kind == "episode_saved":
            self.episodes_saved.inc()
            latency = data.get("save_latency_s")
            if isinstance(latency, (int, float)):
                self.save_latency.observe(float(latency))
        elif kind == "episode_failed":
            self.episodes_failed.inc()
        elif kind == "upload_started":
            self._upload_bytes_seen = 0
        elif kind == "upload_progress":
            self._count_upload_bytes(data.get("bytes_done"))
        elif kind == "upload_done":
            self._count_upload_bytes(self._upload_total())
            self._upload_bytes_seen = 0
            self.uploads.inc()
        elif kind == "upload_failed":
            self.upload_failures.labels(str(bool(data.get("will_retry"))).lower()).inc()
            self._upload_bytes_seen = 0
        elif kind == "session_started":
            self._start_sampler()
        elif kind == "session_stopped":
            self._stop_sampler()

    def _count_upload_bytes(self, done: object) -> None:
        if isinstance(done, (int, float)) and done > self._upload_bytes_seen:
            self.upload_bytes.inc(done - self._upload_bytes_seen)
            self._upload_bytes_seen = int(done)

    def _upload_total(self) -> int | None:
        """The finished attempt's byte total (the commit's small metadata files are not in progress events)."""
        session = self.session
        upload = None if session is None else session.metrics().upload
        if upload is None:
            return None
        progress = upload.get("progress") or {}
        total = progress.get("bytes_total")
        return int(total) if isinstance(total, (int, float)) else None

    # ----------------------------------------------------------------- lateness

    def fold_lateness(self) -> None:
        """Observe the lateness of every tick recorded since the last fold (once each)."""
        session = self.session
        if session is None:
            return
        loop = session.metrics().loop
        with self._fold_lock:
            if self._ticks_of != session.id:  # a new session: its loop counts from zero
                self._ticks_of, self._ticks_seen = session.id, 0
            new = loop.ticks - self._ticks_seen
            if new <= 0:
                return
            values = loop.lateness_s
            for value in values[-min(new, len(values)):] if values else ():
                self.lateness.observe(value)
            self._ticks_seen = loop.ticks

    def _start_sampler(self) -> None:
        if self._sampler is not None and self._sampler.is_alive():
            return
        self._sampler_stop.clear()
        self._sampler = threading.Thread(target=self._sample, name="metrics-sampler", daemon=True)
        self._sampler.start()

    def _stop_sampler(self) -> None:
        self._sampler_stop.set()

    def _sample(self) -> None:
        while not self._sampler_stop.wait(_SAMPLE_INTERVAL_S):
            try:
                self.fold_lateness()
            except Exception:
                log.exception("metrics: sampling the loop failed")
            session = self.session
            if session is None or getattr(session, "finished", False):
                break
        self.fold_lateness()

    def close(self) -> None:
        self._unsubscribe()
        self._stop_sampler()
        if self._sampler is not None:
            self._sampler.join(timeout=2.0)

    # ----------------------------------------------------------------- output

    def exposition(self) -> bytes:
        self.fold_lateness()
        return generate_latest(self.registry)


class _SnapshotCollector(Collector):
    """Values read from the session at scrape time."""

    def __init__(self, metrics: SessionMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # dynamic: collected at scrape time only

    def collect(self) -> Iterator[Metric]:
        session = self.metrics.session
        figures = None if session is None else session.metrics()
        yield from _phase(self.metrics.host.phase, figures)
        yield from _cameras(self.metrics.host.cameras)
        if figures is not None:
            yield from _loop(figures)
            yield from _inference(figures.inference)
            yield from _recording(figures.recording)
        if self.metrics.hubs is not None:
            yield from _previews(self.metrics.hubs)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", doc, value=value)


def _gauge(name: str, doc: str, value: float | None = None, labels: list[str] | None = None) -> GaugeMetricFamily:
    if labels is not None:
        return GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=labels)
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, value=float("nan") if value is None else value)


def _loop(figures: SessionFigures) -> Iterator[Metric]:
    loop = figures.loop
    yield _counter("loop_ticks", "Control-loop ticks run", loop.ticks)
    yield _counter("loop_overruns", "Ticks that ran past the next deadline", loop.overruns)
    yield _counter("loop_skipped_deadlines", "Deadlines skipped after long overruns", loop.skipped_deadlines)
    yield _gauge("loop_target_hz", "Configured loop rate", figures.target_hz)
    yield _gauge("loop_measured_hz", "Measured loop rate over the stats window", loop.measured_hz)
    work = _gauge("loop_work_seconds", "Tick work time over the stats window", labels=["quantile"])
    if loop.work_p50_s is not None:
        work.add_metric(["0.5"], loop.work_p50_s)
        work.add_metric(["0.99"], loop.work_p99_s if loop.work_p99_s is not None else loop.work_p50_s)
    yield work


def _phase(current: Phase, figures: SessionFigures | None) -> Iterator[Metric]:
    phase = _gauge("session_phase", "1 for the server's current phase (idle: no session runs)", labels=["phase"])
    for value in Phase:
        phase.add_metric([value.value], 1.0 if value is current else 0.0)
    yield phase
    if figures is None:
        return
    info = InfoMetricFamily(f"{PREFIX}_session", "The session's strategy, robot and policy")
    info.add_metric([], {"strategy": figures.strategy, "robot": figures.robot, "robot_id": figures.robot_id,
                         "policy": figures.policy, "engine": figures.engine})
    yield info


def _cameras(cameras: Any) -> Iterator[Metric]:
    fps = _gauge("camera_fps", "Frames per second delivered by each camera (last 2 s)", labels=["camera"])
    age = _gauge("camera_frame_age_seconds", "Age of each camera's newest frame", labels=["camera"])
    frames = CounterMetricFamily(f"{PREFIX}_camera_frames", "Frames captured by each camera", labels=["camera"])
    errors = CounterMetricFamily(f"{PREFIX}_camera_errors", "Read errors of each camera", labels=["camera"])
    for name, source in cameras.items():
        stats = source.stats()
        fps.add_metric([name], stats.fps)
        age.add_metric([name], float("nan") if stats.age_ms is None else stats.age_ms / 1000.0)
        frames.add_metric([name], stats.frames)
        errors.add_metric([name], stats.errors)
    yield from (fps, age, frames, errors)


def _seconds(value: object) -> float:
    return float(value) / 1000.0 if isinstance(value, (int, float)) else float("nan")


def _inference(status: dict[str, Any]) -> Iterator[Metric]:
    latency = status.get("latency_ms") or {}
    gauge = _gauge("inference_latency_seconds", "Inference latency over the engine's window", labels=["quantile"])
    gauge.add_metric(["0.5"], _seconds(latency.get("p50")))
    gauge.add_metric(["0.95"], _seconds(latency.get("p95")))
    yield gauge
    yield _gauge("inference_cold_start_seconds", "Duration of the first inference (not in the latency window)",
                 _seconds(status.get("cold_start_ms")) if status.get("cold_start_ms") is not None else None)
    for key, name, doc in (("inferences", "inferences", "Chunks computed"),
                           ("errors", "inference_errors", "Failed inferences"),
                           ("starved_ticks", "inference_starved_ticks", "Ticks without a fresh action while running"),
                           ("discarded_chunks", "inference_discarded_chunks", "Chunks discarded after a reset")):
        value = status.get(key)
        if isinstance(value, (int, float)):
            yield _counter(name, doc, value)
    depth = status.get("queue_depth")
    if isinstance(depth, (int, float)):
        yield _gauge("inference_queue_depth", "Actions queued in the engine", float(depth))


def _recording(status: dict[str, Any] | None) -> Iterator[Metric]:
    if status is None:
        return
    yield _counter("frames_dropped", "Camera frames the recorder dropped (encoders behind)", status["dropped_frames"])
    yield _gauge("recording_backlog_seconds", "Seconds of video waiting for the encoders", status["backlog_s"])
    yield _gauge("recording_episodes", "Episodes in the dataset", status["total_episodes"])
    yield _gauge("recording_pending_saves", "Saves requested and not yet durable", status["pending_saves"])
    if status.get("encoder_fps") is not None:
        yield _gauge("recording_encoder_fps", "Slowest camera encoder's throughput", status["encoder_fps"])


def _previews(hubs: Any) -> Iterator[Metric]:
    viewers = _gauge("preview_viewers", "Clients watching each camera preview", labels=["camera"])
    encodes = CounterMetricFamily(f"{PREFIX}_preview_encodes", "JPEG preview encodes", labels=["camera"])
    sent = CounterMetricFamily(f"{PREFIX}_preview_sent_bytes", "Bytes of preview frames sent to viewers",
                               labels=["camera"])
    skipped = CounterMetricFamily(f"{PREFIX}_preview_skipped_frames",
                                  "Preview frames a viewer's link had no room for (a newer one replaced them)",
                                  labels=["camera"])
    rate = _gauge("preview_bytes_per_second", "Bytes per second sent to the viewers of each camera (last 5 s)",
                  labels=["camera"])
    for name, stats in hubs.stats().items():
        viewers.add_metric([name], stats["viewers"])
        encodes.add_metric([name], stats["encodes"])
        sent.add_metric([name], stats.get("bytes_sent", 0))
        skipped.add_metric([name], stats.get("frames_skipped", 0))
        rate.add_metric([name], stats.get("bytes_per_s", 0.0))
    yield viewers
    yield encodes
    yield sent
    yield skipped
    yield rate


def install_metrics(app: FastAPI, host: Any, hubs: Any = None, path: str = "/metrics") -> SessionMetrics:
    """Serve ``GET {path}`` on ``app``; returns the SessionMetrics (also on ``app.state.metrics``).

    The route sits behind the access middleware like every other page: no token on loopback, the
    operator or viewer token (``Authorization: Bearer``) otherwise. Calling it again for the same app
    returns the metrics already installed.
    """
    existing = getattr(app.state, "metrics", None)
    if isinstance(existing, SessionMetrics):
        return existing
    metrics = SessionMetrics(host, hubs)

    def scrape() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route(path, scrape, methods=["GET"], include_in_schema=False, name="metrics")
    app.state.metrics = metrics
    return metrics
