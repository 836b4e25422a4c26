"""The recording steps every recording strategy shares: frames in, durable episodes out, uploads.

``Recording`` wraps the EpisodeRecorder (and the HubUploader when pushing) for use on the control
thread. It never blocks: frames are queued, saves return Futures that resolve once the episode is
durable, uploads run in the uploader's thread.
"""

from __future__ import annotations

import errno
import shutil
import time
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import RolloutConsoleConfig
from ..errors import RecordingError
from ..features import ACTION, ENV_STATE, IMAGE_PREFIX, STATE, FeatureLayout
from ..protocol.commands import CommandOutcome, CommandResult
from ..protocol.events import EventBus
from ..protocol.phases import Phase
from ..recording import EpisodeInfo, EpisodeRecorder, HubUploader
from ..recording.disk_space import DiskSpace

__all__ = ["Recording", "RecordingFault", "estimate_episode_seconds", "explain_failure", "open_recording",
           "require_recording"]

INTERVENTION = "intervention"
_BITS_PER_PIXEL = 0.1  # deliberately low estimate of compressed video (so files end up above the target)


def estimate_episode_seconds(camera_shapes: dict[str, tuple[int, int, int]], fps: float, target_mb: float) -> float:
    """Seconds of video that reach ``target_mb`` for the smallest camera at 0.1 bit per pixel.

    Without cameras the size never grows, so a 5-minute episode is used.
    """
    if not camera_shapes:
        return 300.0
    pixels = min(h * w for h, w, _ in camera_shapes.values())
    bytes_per_second = pixels * _BITS_PER_PIXEL * fps / 8.0
    return target_mb * 2**20 / bytes_per_second


@dataclass(frozen=True)
class RecordingFault:
    """Recording could not go on as asked: what happened and what the operator should do."""

    cause: str
    fix: str

    @property
    def message(self) -> str:
        return f"recording failed: {self.cause}. {self.fix}"


def explain_failure(error: BaseException | str) -> RecordingFault:
    """Turn a save or start failure into words an operator can act on."""
    text = str(error)
    code = getattr(error, "errno", None)
    low = text.lower()
    if code == errno.ENOSPC or "no space left" in low or "not enough disk space" in low:
        return RecordingFault(text, "Free space on the dataset's disk (or point --dataset.root at a bigger disk), "
                              "then resume")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) or "permission denied" in low or "read-only" in low:
        return RecordingFault(text, "Make the dataset directory writable (or choose another --dataset.root), "
                              "then resume")
    if "encod" in low or "video" in low or "codec" in low:
        return RecordingFault(text, "The video encoder failed: try --dataset.vcodec=h264 or a faster "
                              "--dataset.preset, check the server log, then resume")
    return RecordingFault(text, "Check the server log for the cause, then resume")


class Recording:
    """Loop-thread helper: build frames, start/save/discard episodes, count and trigger uploads.

    It never lets a recording failure escape into the control loop: a refused start, a rejected
    frame or a failed save becomes a ``RecordingFault`` that the strategy picks up with
    ``take_faults`` at the end of the tick (and pauses on, by default).
    """

    def __init__(self, recorder: EpisodeRecorder, uploader: HubUploader | None, layout: FeatureLayout,
                 events: EventBus, task: str, upload_every: int, intervention: bool = False,
                 disk: DiskSpace | None = None, min_episode_s: float = 0.0) -> None:
        self.recorder = recorder
        self.uploader = uploader
        self.layout = layout
        self.events = events
        self.task = task
        self.upload_every = upload_every
        self.intervention = intervention
        self.disk = disk
        self.min_episode_s = min_episode_s
        self.max_episode_s: float | None = None  # set by the strategy (its rotation length), for the disk check
        self.max_episode_bytes: int | None = None  # set by strategies that rotate by size, for the disk check
        self.started_at = 0.0
        self.saved = 0
        self.saved_since_upload = 0
        self.last_saved: dict[str, Any] | None = None
        self._faults: deque[RecordingFault] = deque()  # appended by the saver thread, taken by the loop
        self._refused: str | None = None  # the last start refusal, reported once per streak

    @property
    def open(self) -> bool:
        """An episode is being recorded (or the recorder is dropping frames after a backlog cut)."""
        return self.recorder.state in ("recording", "dropping")

    @property
    def frames(self) -> int:
        """Frames in the episode being recorded (0 while dropping after a cut)."""
        return self.recorder.episode_frames

    # ------------------------------------------------------------------ frames

    def frame(self, observation: dict[str, Any], action: np.ndarray,
              intervention: bool | None = None) -> dict[str, Any]:
        """A recorder frame from a raw observation and the action actually sent this tick."""
        frame: dict[str, Any] = {STATE: self.layout.state_vector(observation), ACTION: np.asarray(action, np.float32)}
        if self.layout.env_names:
            frame[ENV_STATE] = self.layout.env_vector(observation)
        for name in self.layout.camera_names:
            frame[IMAGE_PREFIX + name] = observation[name]
        if self.intervention:
            frame[INTERVENTION] = bool(intervention)
        return frame

    def start(self, prefix: Sequence[Mapping[str, Any]] | None = None) -> int | None:
        """Begin an episode; None (and a fault) when it cannot start, e.g. it would not fit on the disk.

        ``prefix`` (a drained ring) goes to the recorder as it is: no copy on the control thread."""
        refusal = self._start_refusal()
        if refusal is not None:
            if refusal != self._refused:
                self._refused = refusal
                self.report(explain_failure(refusal))
            return None
        self._refused = None
        try:
            index = self.recorder.start_episode(self.task, prefix)
        except RecordingError as exc:
            self.report(explain_failure(exc))
            return None
        self.started_at = time.perf_counter()
        self.events.publish("episode_started", index=index, task=self.task, prefix_frames=len(prefix or []))
        return index

    def _start_refusal(self) -> str | None:
        if self.disk is None:
            return None
        recorded_s = self.recorder.total_frames / float(self.recorder.spec.fps)
        return self.disk.refusal(recorded_s, self.max_episode_s, self.max_episode_bytes)

    def rotate_by_size(self, target_mb: float) -> None:
        """The strategy cuts episodes when their video reaches ``target_mb`` per camera: an upper bound."""
        cameras = max(1, len(self.layout.camera_names))
        self.max_episode_bytes = int(target_mb * 2**20 * cameras)

    def add(self, frame: dict[str, Any]) -> bool:
        """Queue a frame (starting an episode when none is open); False when it was not recorded."""
        if not self.open and self.start() is None:
            return False
        try:
            self.recorder.add_frame(frame)
        except RecordingError as exc:
            self.report(explain_failure(exc))
            return False
        return True

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started_at if self.open else 0.0

    # ----------------------------------------------------------------- faults

    def report(self, fault: RecordingFault) -> None:
        """Record a fault for the loop to act on (any thread)."""
        self._faults.append(fault)

    def take_faults(self) -> list[RecordingFault]:
        """Faults since the last call (loop thread)."""
        faults = []
        while self._faults:
            faults.append(self._faults.popleft())
        return faults

    # ----------------------------------------------------------------- episodes

    def save(self, extra: dict[str, Any] | None = None) -> Future[EpisodeInfo] | None:
        """End the episode; the Future resolves when it is durable. Triggers an upload every N saves.

        None when there was nothing to save (an empty episode, or a backlog cut that kept no frame).
        """
        try:
            future = self.recorder.save_episode(extra)
        except RecordingError:
            return None
        future.add_done_callback(self._saved)
        return future

    def end_after_pause(self, automatic: str | None) -> Future[EpisodeInfo] | None:
        """The motion this episode records stopped: keep it, unless an automatic pause cut it too short.

        ``automatic`` is the reason of an automatic pause (stale camera, lease lapse, recording error), or
        None when the operator paused or stopped. An automatic pause discards an episode shorter than
        ``--dataset.min_episode_s``, saying why; anything else is saved.
        """
        if not self.open:
            return None
        fps = float(self.recorder.spec.fps)
        if automatic and self.recorder.state == "recording" and self.frames < self.min_episode_s * fps:
            self.recorder.discard_episode(reason=f"{automatic}: the episode had only {self.frames} frames "
                                                 f"({self.frames / fps:.2f} s < --dataset.min_episode_s="
                                                 f"{self.min_episode_s:g})")
            return None
        return self.save()

    def _saved(self, future: Future[EpisodeInfo]) -> None:  # saver thread
        error = future.exception()
        if error is not None:  # the recorder reported episode_failed; the loop pauses (or notes) it
            self.report(explain_failure(error))
            return
        info = future.result()
        self.saved += 1
        self.last_saved = info.as_dict()
        self.saved_since_upload += 1
        if self.uploader is not None and self.upload_every and self.saved_since_upload >= self.upload_every:
            self.saved_since_upload = 0
            self.uploader.request_upload()

    def save_command(self, phase: Phase, extra: dict[str, Any] | None = None) -> Future[CommandResult] | CommandResult:
        """Save as an operator command: acknowledged with the saved episode once it is durable."""
        saved = self.save(extra)
        if saved is None:
            return CommandResult.refused(phase, "nothing to save: no frame was recorded in this episode")
        return self.acknowledge(saved, phase)

    @staticmethod
    def acknowledge(saved: Future[EpisodeInfo], phase: Phase) -> Future[CommandResult]:
        """A command result that resolves when ``saved`` is durable (or failed)."""
        result: Future[CommandResult] = Future()

        def done(episode: Future[EpisodeInfo]) -> None:
            error = episode.exception()
            if error is not None:
                result.set_result(CommandResult.refused(phase, f"save failed: {error}", CommandOutcome.FAILED))
                return
            info = episode.result()
            result.set_result(CommandResult(True, phase, f"episode {info.index} saved ({info.length} frames)"))

        saved.add_done_callback(done)
        return result

    def discard(self) -> bool:
        return self.recorder.discard_episode()

    def upload(self) -> str | None:
        """Start an upload now; returns why not, or None."""
        if self.uploader is None:
            return "uploads are off (--dataset.push_to_hub=false)"
        if self.recorder.status()["total_episodes"] == 0 and self.saved == 0:
            return "nothing to upload yet: no episode has been saved"
        self.saved_since_upload = 0
        self.uploader.request_upload()
        return None

    @property
    def pending_saves(self) -> int:
        return self.recorder.pending_saves

    def close(self, save_current: bool) -> None:
        """At stop: save (or drop) the open episode, wait for saves, push what is pending."""
        if self.open and save_current and self.frames > 0:
            self.save()
        elif self.open:
            self.discard()
        self.recorder.close(timeout=120.0)
        if self.disk is not None:
            self.disk.stop()
        if self.uploader is not None:
            if self.saved_since_upload or self.uploader.status().get("state") in ("pending", "retrying", "error"):
                self.uploader.request_upload()

    def abandon(self, created: bool) -> None:
        """The session was never built (a later part failed): stop the threads and, when ``created`` (a new
        dataset, not a resumed one) holds no episode, remove it, so a corrected retry may use the same root."""
        self.recorder.close(timeout=10.0)
        if self.disk is not None:
            self.disk.stop()
        if self.uploader is not None:
            self.uploader.close()
        if created and self.recorder.status()["total_episodes"] == 0:
            shutil.rmtree(self.recorder.root, ignore_errors=True)

    # -------------------------------------------------------------------- status

    def status(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        recorder = self.recorder.status()
        recording = {
            "state": recorder["state"],
            "episode_index": recorder["episode_index"],
            "frames": recorder["frames"],
            "elapsed_s": round(recorder["elapsed_s"], 2),
            "dropped_frames": recorder["dropped_frames"],
            "backlog_s": round(recorder["live_backlog_s"], 2),
            "max_backlog_s": recorder["max_backlog_s"],
            "encoder_fps": None if recorder["encoder_fps"] is None else round(recorder["encoder_fps"], 1),
            "pending_saves": recorder["pending_saves"],
            "episodes": recorder["total_episodes"],
            "total_frames": recorder["total_frames"],
            "saved_this_session": self.saved,
            "last_saved": self.last_saved,
            "last_error": recorder["last_error"],
            "repo_id": self.recorder.repo_id,
            "root": str(self.recorder.root),
            "disk": None if self.disk is None else self.disk.status(),
            **(extra or {}),
        }
        upload = self.uploader.status() if self.uploader is not None else {"state": "disabled"}
        return {"recording": recording, "upload": upload}


def require_recording(recording: Recording | None, strategy: str) -> Recording:
    """The recording of a strategy that always records (the config requires a dataset for it)."""
    if recording is None:
        raise ValueError(f"the {strategy} strategy records episodes: it needs a dataset")
    return recording


def open_recording(config: RolloutConsoleConfig, layout: FeatureLayout, robot_type: str, events: EventBus,
                   hub_api: Any = None, *, intervention: bool = False) -> Recording:
    """Create or resume the dataset (recovery and compatibility checks happen here, before any
    hardware connects) and start the uploader when pushing.

    ``intervention``: frames carry the intervention column (the strategy's ``records_intervention``).
    """
    from ..config.dataset import effective_repo_id, resolve_root
    from ..recording import RecorderSpec

    dataset = config.dataset
    assert dataset is not None  # the builder opens a recording only for a dataset
    strategy = config.strategy
    repo_id = effective_repo_id(dataset, config.resume)
    root = resolve_root(dataset, config.resume, repo_id)
    spec = RecorderSpec.from_config(dataset, root=root, repo_id=repo_id, layout=layout, fps=config.fps,
                                    robot_type=robot_type, intervention=intervention,
                                    extras={"outcome": "string", **strategy.episode_columns})

    def forward(kind: str, data: dict[str, Any]) -> None:
        events.publish(kind, **data)

    recorder = EpisodeRecorder.open(spec, resume=config.resume, on_event=forward)
    pixels = [h * w for h, w, _ in layout.camera_shapes.values()]
    disk = DiskSpace(root, min_free_bytes=int(dataset.min_free_gb * 2**30),
                     prior_bytes_per_s=DiskSpace.prior_rate(pixels, config.fps, dataset.video),
                     on_event=forward).start()
    uploader = None
    if dataset.push_to_hub:
        uploader = HubUploader(root, repo_id, recorder.snapshot, api=hub_api, private=dataset.private,
                               tags=dataset.tags, on_event=forward)
        recorder.set_uploaded_source(uploader.uploaded_episodes)
    upload_every = getattr(strategy, "upload_every_n_episodes", 0)
    return Recording(recorder, uploader, layout, events, config.effective_task, upload_every, intervention,
                     disk=disk, min_episode_s=dataset.min_episode_s)
