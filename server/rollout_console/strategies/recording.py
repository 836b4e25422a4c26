"""The recording steps every recording strategy shares: frames in, durable episodes out, uploads.

``Recording`` wraps the EpisodeRecorder (and the HubUploader when pushing) for use on the control
thread. It never blocks: frames are queued, saves return Futures that resolve once the episode is
durable, uploads run in the uploader's thread.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import Any

import numpy as np

from ..features import ACTION, ENV_STATE, IMAGE_PREFIX, STATE, FeatureLayout
from ..recording import EpisodeInfo, EpisodeRecorder, HubUploader
from ..runtime.commands import CommandResult
from ..runtime.events import EventBus
from ..runtime.phases import Phase

__all__ = ["Recording", "estimate_episode_seconds"]

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


class Recording:
    """Loop-thread helper: build frames, start/save/discard episodes, count and trigger uploads."""

    def __init__(self, recorder: EpisodeRecorder, uploader: HubUploader | None, layout: FeatureLayout,
                 events: EventBus, task: str, upload_every: int, intervention: bool = False) -> None:
        self.recorder = recorder
        self.uploader = uploader
        self.layout = layout
        self.events = events
        self.task = task
        self.upload_every = upload_every
        self.intervention = intervention
        self.open = False
        self.started_at = 0.0
        self.frames = 0
        self.saved = 0
        self.saved_since_upload = 0
        self.last_saved: dict[str, Any] | None = None

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

    def start(self, prefix: list[dict[str, Any]] | None = None) -> int:
        index = self.recorder.start_episode(self.task, prefix)
        self.open = True
        self.started_at = time.perf_counter()
        self.frames = len(prefix or [])
        self.events.publish("episode_started", index=index, task=self.task, prefix_frames=self.frames)
        return index

    def add(self, frame: dict[str, Any]) -> None:
        if not self.open:
            self.start()
        self.recorder.add_frame(frame)
        self.frames += 1

    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started_at if self.open else 0.0

    # ----------------------------------------------------------------- episodes

    def save(self, extra: dict[str, Any] | None = None) -> Future[EpisodeInfo]:
        """End the episode; the Future resolves when it is durable. Triggers an upload every N saves."""
        future = self.recorder.save_episode(extra)
        self.open = False
        self.frames = 0
        future.add_done_callback(self._saved)
        return future

    def _saved(self, future: Future[EpisodeInfo]) -> None:  # saver thread
        if future.exception() is not None:
            return  # the recorder reported episode_failed
        info = future.result()
        self.saved += 1
        self.last_saved = info.as_dict()
        self.saved_since_upload += 1
        if self.uploader is not None and self.upload_every and self.saved_since_upload >= self.upload_every:
            self.saved_since_upload = 0
            self.uploader.request_upload()

    def save_command(self, phase: Phase, extra: dict[str, Any] | None = None) -> Future[CommandResult]:
        """Save as an operator command: acknowledged with the saved episode once it is durable."""
        return self.acknowledge(self.save(extra), phase)

    @staticmethod
    def acknowledge(saved: Future[EpisodeInfo], phase: Phase) -> Future[CommandResult]:
        """A command result that resolves when ``saved`` is durable (or failed)."""
        result: Future[CommandResult] = Future()

        def done(episode: Future[EpisodeInfo]) -> None:
            error = episode.exception()
            if error is not None:
                result.set_result(CommandResult(False, phase, f"save failed: {error}", status=500))
                return
            info = episode.result()
            result.set_result(CommandResult(True, phase, f"episode {info.index} saved ({info.length} frames)"))

        saved.add_done_callback(done)
        return result

    def discard(self) -> bool:
        dropped = self.recorder.discard_episode()
        self.open = False
        self.frames = 0
        return dropped

    def upload(self) -> str | None:
        """Start an upload now; returns why not, or None."""
        if self.uploader is None:
            return "uploads are off (--dataset.push_to_hub=false)"
        if self.recorder.status()["total_episodes"] == 0 and self.saved == 0:
            return "nothing to upload yet: no episode has been saved"
        self.saved_since_upload = 0
        self.uploader.request_upload()
        return None

    def close(self, save_current: bool) -> None:
        """At stop: save (or drop) the open episode, wait for saves, push what is pending."""
        if self.open and save_current and self.frames > 0:
            self.save()
        elif self.open:
            self.discard()
        self.recorder.close(timeout=120.0)
        if self.uploader is not None:
            if self.saved_since_upload or self.uploader.status().get("state") in ("pending", "retrying", "error"):
                self.uploader.request_upload()

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
            **(extra or {}),
        }
        upload = self.uploader.status() if self.uploader is not None else {"state": "disabled"}
        return {"recording": recording, "upload": upload}


def open_recording(config: Any, layout: FeatureLayout, robot_type: str, events: EventBus,
                   hub_api: Any = None) -> Recording:
    """Create or resume the dataset (recovery and compatibility checks happen here, before any
    hardware connects) and start the uploader when pushing."""
    from ..config.dataset import effective_repo_id, resolve_root
    from ..recording import RecorderSpec

    dataset = config.dataset
    strategy = config.strategy
    repo_id = effective_repo_id(dataset, config.resume)
    root = resolve_root(dataset, config.resume, repo_id)
    intervention = strategy.type == "dagger"
    spec = RecorderSpec.from_config(dataset, root=root, repo_id=repo_id, layout=layout, fps=config.fps,
                                    robot_type=robot_type, intervention=intervention,
                                    extras={"outcome": "string"})

    def forward(kind: str, data: dict[str, Any]) -> None:
        events.publish(kind, **data)

    recorder = EpisodeRecorder.open(spec, resume=config.resume, on_event=forward)
    uploader = None
    if dataset.push_to_hub:
        uploader = HubUploader(root, repo_id, recorder.snapshot, api=hub_api, private=dataset.private,
                               tags=dataset.tags, on_event=forward)
        recorder.set_uploaded_source(uploader.uploaded_episodes)
    upload_every = getattr(strategy, "upload_every_n_episodes", 0)
    return Recording(recorder, uploader, layout, events, config.effective_task, upload_every, intervention)
