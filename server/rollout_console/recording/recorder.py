"""EpisodeRecorder: the control thread's O(1) facade over encoder and saver threads.

Threads::

    control thread ── add_frame ──┬─> camera worker (one per camera): decode JPEG if needed, RGB->YUV,
      (O(1) per call:             │     encode into a staging MP4 (or PNG), image statistics
       copies 3 small vectors,    ├─> ...
       queues image references)   │
                                  └─ save_episode ─> saver thread: waits for each camera's finished
                                                     file, writes the data parquet, renames, commits
                                                     metadata, resolves the Future (durable)

Guarantees:

* every committed episode has exactly as many frames in each video as rows in its parquet (checked
  before commit; a camera that failed makes the save fail loudly rather than commit a mismatch);
* nothing is dropped silently: when the encoders lag more than ``max_encoder_backlog_s`` behind live
  frames, the episode is cut at the last accepted frame and saved (``encoder_backlog`` event), the next
  frames are counted as dropped (``frames_dropped``) and a fresh episode with the same task starts by
  itself once the backlog has halved (``episode_started`` with ``auto: true``);
* a ring-buffer prefix handed to ``start_episode`` is queued as one item per camera (decoded and
  encoded by the workers) and does not count against the live backlog limit.

The facade is meant for one control thread; ``status()``, ``episodes()`` and ``snapshot()`` may be
called from any thread.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import numpy as np

# Two import costs kept off the saver thread, where they held the GIL while the control loop ran.
#
# 1. numpy.ma (pyarrow's array conversion) and pyarrow.compute (a metadata column cast) load lazily: at the
#    first save of every session that import held the GIL for ~0.2 s in pieces (py-spy --gil, 120 Hz).
#    Importing them with the recorder moves that cost to start-up, before the control loop runs.
import numpy.ma  # noqa: F401
import pyarrow.compute  # noqa: F401

# 2. pyarrow tries ``import dateutil.relativedelta`` for every Python value it converts (the episodes
#    metadata row). Without python-dateutil that import fails, is not remembered and searches sys.path
#    again: ~280 times per save, ~100 ms of the saver's CPU per save (time.thread_time). A None in
#    sys.modules is Python's own record of an absent module: the same ImportError, at once. When
#    python-dateutil is installed, the import simply loads it.
try:
    import dateutil.relativedelta  # type: ignore[import-untyped]  # noqa: F401
except ImportError:
    sys.modules.setdefault("dateutil.relativedelta", None)  # type: ignore[arg-type]

from ..errors import RecordingError
from ..features import ACTION, ENV_STATE, STATE
from .camera_worker import CameraWorker, EpisodeToken
from .encoder_opener import EncoderOpener, TickGate
from .episode_lifecycle import EpisodeLifecycle, FrameDecision, LifecycleState, SaveDecision
from .layout import INTERVENTION, camera_keys
from .metadata import Snapshot
from .ring_buffer import CompressedImage
from .writer import DatasetWriter, EpisodeData, EpisodeInfo, RecorderSpec, stack_columns

__all__ = ["EpisodeRecorder"]

log = logging.getLogger(__name__)

EventCallback = Callable[[str, dict[str, Any]], None]

_RESUME_FRACTION = 0.5
"""After a cut, recording restarts once the live backlog is below this fraction of the limit."""


class _Episode:
    __slots__ = ("length", "prefix", "rows", "started", "task", "token")

    def __init__(self, token: EpisodeToken, task: str, prefix: Sequence[Mapping[str, Any]]) -> None:
        self.token = token
        self.task = task
        self.prefix = prefix
        self.rows: list[tuple[np.ndarray, np.ndarray | None, np.ndarray, bool]] = []
        self.length = len(prefix)
        self.started = time.perf_counter()


class _SaveJob:
    def __init__(self, episode: _Episode, cameras: dict[str, Future], extra: dict[str, Any], cut: bool) -> None:
        self.episode = episode
        self.cameras = cameras
        self.extra = extra
        self.cut = cut
        self.future: Future[EpisodeInfo] = Future()
        self.lock = threading.Lock()
        self.committing = False
        self.submitted = time.perf_counter()


class EpisodeRecorder:
    """Records episodes into a LeRobotDataset v3 without blocking the caller (see module docstring)."""

    def __init__(self, writer: DatasetWriter, on_event: EventCallback | None = None) -> None:
        self.spec: RecorderSpec = writer.spec
        self._writer = writer
        self._on_event = on_event
        features = writer.meta.features
        self._features = features
        self._fps = float(self.spec.fps)
        self._state_width = int(features[STATE]["shape"][0])
        self._action_width = int(features[ACTION]["shape"][0])
        self._env_width = int(features[ENV_STATE]["shape"][0]) if ENV_STATE in features else 0
        self._has_intervention = INTERVENTION in features
        self._max_backlog_frames = max(1, round(self.spec.max_encoder_backlog_s * self._fps))
        self._resume_frames = int(self._max_backlog_frames * _RESUME_FRACTION)
        video = self.spec.video
        self._opener = EncoderOpener(video.nice) if video is not None else None
        self._cams = {
            key: CameraWorker(key, features[key], self._fps, video, writer.staging, self._opener)
            for key in camera_keys(features)
        }
        self._save_queue: queue.SimpleQueue[_SaveJob | None] = queue.SimpleQueue()
        self._saver = threading.Thread(target=self._save_loop, name="recorder-saver", daemon=True)
        self._uid = itertools.count()
        self._uid_prefix = f"{os.getpid()}-{int(time.time())}"
        self._life = EpisodeLifecycle(self._max_backlog_frames, self._resume_frames)
        self._episode: _Episode | None = None
        self._cut_job: _SaveJob | None = None
        self._dropped_task = ""  # the task a fresh episode takes after a backlog cut
        self._jobs: deque[_SaveJob] = deque()  # submitted, oldest first; finished ones leave from the left
        self._saves_submitted = 0
        self._saves_done = 0
        self._saved_at: dict[int, float] = {}
        self._cut_episodes: set[int] = set()
        self._last_error: str | None = None
        self._closed = False
        self._abandoned = False
        self._uploaded: Callable[[], int] | None = None
        self.recovery = writer.recovery
        self._saver.start()

    # ------------------------------------------------------------------ opening

    @classmethod
    def create(cls, spec: RecorderSpec, on_event: EventCallback | None = None) -> EpisodeRecorder:
        """A new dataset at ``spec.root`` (which must not exist or be empty)."""
        return cls(DatasetWriter.create(spec), on_event)

    @classmethod
    def resume(cls, spec: RecorderSpec, on_event: EventCallback | None = None) -> EpisodeRecorder:
        """Append to the dataset at ``spec.root`` after recovery and a compatibility check."""
        recorder = cls(DatasetWriter.resume(spec), on_event)
        if recorder.recovery is not None and recorder.recovery.changed:
            recorder._emit("recovered_on_open", recorder.recovery.as_dict())
        return recorder

    @classmethod
    def open(cls, spec: RecorderSpec, resume: bool, on_event: EventCallback | None = None) -> EpisodeRecorder:
        return cls.resume(spec, on_event) if resume else cls.create(spec, on_event)

    # ------------------------------------------------------------------ control thread API

    def start_episode(self, task: str, prefix_frames: Sequence[Mapping[str, Any]] | None = None) -> int:
        """Begin an episode, optionally seeded with ring-buffer frames (oldest first); returns its index.

        The prefix is handed to the workers in one piece per camera, as it is (not copied: the recorder
        owns it from now on, so the caller must not change it; a ring's ``DrainedFrames`` never changes),
        so starting from a full ring costs the caller O(cameras), whatever its length.
        """
        prefix: Sequence[Mapping[str, Any]] = () if prefix_frames is None else prefix_frames
        self._life.start(len(prefix))
        self._report_drops()
        self._cut_job = None
        self._begin(task, prefix)
        return self._next_index()

    def add_frame(self, frame: Mapping[str, Any]) -> None:
        """Queue one frame of the current episode (never blocks; see the backlog rule)."""
        backlog = max((c.pending_live for c in self._cams.values()), default=0)
        decision = self._life.frame(backlog)
        if decision is FrameDecision.DROP:
            return
        if decision is FrameDecision.CUT:
            self._cut(backlog)
            return
        if decision is FrameDecision.RESTART:
            self._report_drops()
            self._begin(self._dropped_task, ())
            self._emit("episode_started", {"index": self._next_index(), "task": self._dropped_task, "auto": True})
        episode = self._episode
        if episode is None:  # cannot happen while the lifecycle says recording; refuse rather than crash
            self._life.undo_frame()
            raise RecordingError("recorder: no episode is open for this frame")
        try:
            self._check_frame(frame, episode)
        except RecordingError:
            self._life.undo_frame()
            raise

    def _check_frame(self, frame: Mapping[str, Any], episode: _Episode) -> None:
        """Validate one frame and queue it (raises RecordingError before anything is queued)."""
        try:
            state = np.array(frame[STATE], dtype=np.float32)
            action = np.array(frame[ACTION], dtype=np.float32)
            env = np.array(frame[ENV_STATE], dtype=np.float32) if self._env_width else None
            flag = bool(np.asarray(frame.get(INTERVENTION, False)).reshape(-1)[0]) if self._has_intervention \
                else False
        except KeyError as exc:
            raise RecordingError(f"recorder: frame lacks {exc.args[0]!r}") from None
        if state.shape != (self._state_width,) or action.shape != (self._action_width,) or (
            env is not None and env.shape != (self._env_width,)
        ):
            raise RecordingError(f"recorder: frame shapes state {state.shape}, action {action.shape}"
                                 f"{'' if env is None else f', env {env.shape}'} do not match the dataset")
        images = []
        for key, cam in self._cams.items():
            image = frame.get(key)
            if isinstance(image, np.ndarray):
                if image.shape != cam.shape or image.dtype != np.uint8:
                    raise RecordingError(f"recorder: {key} has shape {image.shape} {image.dtype}, expected "
                                         f"{cam.shape} uint8")
                if self.spec.copy_images:
                    image = image.copy()
            elif not isinstance(image, CompressedImage):
                raise RecordingError(f"recorder: frame lacks an image for {key}")
            images.append((cam, image))
        for cam, image in images:
            cam.frame(image)
        episode.rows.append((state, env, action, flag))
        episode.length += 1

    def save_episode(self, extra: Mapping[str, Any] | None = None) -> Future[EpisodeInfo]:
        """Finish the current episode; the Future resolves once it is durable (or fails loudly).

        ``extra`` fills the per-episode columns declared in the spec (e.g. ``{"outcome": "success"}``).
        After an automatic cut (backlog), this returns the cut episode's Future and labels it with
        ``extra`` if it has not been committed yet.
        """
        extra = dict(extra or {})
        unknown = set(extra) - set(self.spec.extras)
        if unknown:
            raise RecordingError(f"recorder: unknown episode columns {sorted(unknown)}; declared: "
                                 f"{sorted(self.spec.extras)}")
        episode, cut_job = self._episode, self._cut_job
        try:
            decision = self._life.save()
        except RecordingError:
            if episode is not None and self._life.state is LifecycleState.IDLE:
                self._drop_open_episode(episode)  # an empty episode: nothing to keep
            raise
        finally:
            self._report_drops()
            if self._life.state is LifecycleState.IDLE:
                self._cut_job = None
        if decision is SaveDecision.CUT:
            if cut_job is None:
                raise RecordingError("recorder: the cut episode is no longer available to label")
            with cut_job.lock:
                if not cut_job.committing:
                    cut_job.extra.update(extra)
            return cut_job.future
        if episode is None:
            raise RecordingError("recorder: no episode is open to save")
        return self._submit(episode, extra, cut=False).future

    def discard_episode(self, reason: str | None = None) -> bool:
        """Drop the current episode (its queued frames are skipped by the workers); False if none.

        ``reason`` (for automatic discards) is carried by the ``episode_discarded`` event.
        """
        frames = self._life.discard()
        self._report_drops()
        self._cut_job = None
        episode = self._episode
        if frames is None or episode is None:
            return False
        self._drop_open_episode(episode)
        event: dict[str, Any] = {"frames": episode.length, "task": episode.task}
        if reason:
            event["reason"] = reason
        self._emit("episode_discarded", event)
        return True

    def _drop_open_episode(self, episode: _Episode) -> None:
        episode.token.cancelled = True
        for cam in self._cams.values():
            cam.end(episode.token, Future())
        self._episode = None

    # ------------------------------------------------------------------ any thread

    def status(self) -> dict[str, Any]:
        pending_saves = self.pending_saves
        backlog = max((c.pending for c in self._cams.values()), default=0)
        live = max((c.pending_live for c in self._cams.values()), default=0)
        now = time.perf_counter()
        rates = [c.throughput(now) for c in self._cams.values()]
        encoder_fps = min(rates) if rates else None
        state = self._life.state.value
        if state == "idle" and pending_saves:
            state = "saving"
        episode = self._episode
        return {
            "state": state,
            "episode_index": self._next_index() if episode is not None else None,
            "frames": episode.length if episode is not None else 0,
            "elapsed_s": time.perf_counter() - episode.started if episode is not None else 0.0,
            "dropped_frames": self._life.dropped_total,
            "backlog_frames": backlog,
            "backlog_s": backlog / self._fps,
            "live_backlog_s": live / self._fps,
            "max_backlog_s": self.spec.max_encoder_backlog_s,
            "encoder_fps": encoder_fps,
            "pending_saves": pending_saves,
            "total_episodes": self._writer.meta.total_episodes,
            "total_frames": self._writer.meta.total_frames,
            "last_error": self._last_error,
        }

    def episodes(self) -> list[EpisodeInfo]:
        uploaded = self._uploaded() if self._uploaded is not None else 0
        rows = list(self._writer.meta.rows)
        return [self._writer.episode_info(row, self._saved_at.get(row.index), row.index < uploaded,
                                          row.index in self._cut_episodes) for row in rows]

    def snapshot(self) -> Snapshot:
        """The latest committed state (for the uploader)."""
        return self._writer.meta.snapshot()

    def set_tick_gate(self, gate: TickGate | None) -> None:
        """Let the camera workers open their next encoders only just after a control tick (see camera_worker)."""
        if self._opener is not None:
            self._opener.gate = gate

    def set_uploaded_source(self, uploaded_episodes: Callable[[], int]) -> None:
        """Where ``episodes()`` reads how many episodes are on the Hub (e.g. ``uploader.uploaded_episodes``)."""
        self._uploaded = uploaded_episodes

    @property
    def camera_workers(self) -> dict[str, CameraWorker]:
        """The camera workers by feature key (the CPU budget sets their encoder preset and reads their backlog)."""
        return dict(self._cams)

    @property
    def total_frames(self) -> int:
        """Frames committed to the dataset so far (any thread)."""
        return int(self._writer.meta.total_frames)

    @property
    def pending_saves(self) -> int:
        """Saves submitted and not yet durable or failed (any thread)."""
        return self._saves_submitted - self._saves_done

    @property
    def state(self) -> str:
        """idle, recording, dropping or closed (control thread)."""
        return self._life.state.value

    @property
    def episode_frames(self) -> int:
        """Frames in the episode being recorded (0 while idle or dropping; control thread)."""
        return self._life.frames

    @property
    def root(self) -> Path:
        return self.spec.root

    @property
    def repo_id(self) -> str:
        return self.spec.repo_id

    def close(self, timeout: float | None = 60.0, save_current: bool = False) -> bool:
        """Finish (or discard) the current episode, wait for pending saves, stop the threads.

        Returns True when every save finished in time. An unfinished save stays staged and is dropped
        by recovery on the next open (it was never reported durable).
        """
        if self._closed:
            return True
        if self._life.state is LifecycleState.RECORDING:
            if save_current and self._episode is not None and self._episode.length > 0:
                self.save_episode()
            else:
                self.discard_episode()
        elif self._life.state is LifecycleState.DROPPING:
            self.discard_episode()  # the cut episode is already saved; only dropped frames remain
        self._life.close()
        deadline = None if timeout is None else time.monotonic() + timeout
        complete = True
        for job in list(self._jobs):
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                job.future.exception(timeout=remaining)
            except FutureTimeout:
                complete = False
                break
        if not complete:
            self._abandoned = True  # a save still queued must not commit behind the caller's back
            for job in self._jobs:
                if not job.future.done():
                    job.episode.token.cancelled = True  # and its frames need not be encoded any more
            log.error("recorder: close timed out with saves pending; they are dropped and recovery will "
                      "clean up their files")
        for cam in self._cams.values():
            cam.stop()
        self._save_queue.put(None)
        if complete:
            for cam in self._cams.values():
                cam.thread.join(timeout=10)
            self._saver.join(timeout=10)
        if self._opener is not None:
            self._opener.close()
        self._closed = True
        return complete

    # ------------------------------------------------------------------ internals (control thread)

    def _next_index(self) -> int:
        return self._writer.meta.total_episodes + (self._saves_submitted - self._saves_done)

    def _begin(self, task: str, prefix: Sequence[Mapping[str, Any]]) -> None:
        token = EpisodeToken(f"{self._uid_prefix}-{next(self._uid):06d}")
        for cam in self._cams.values():
            cam.start(token)
            if prefix:
                cam.bulk(prefix)
        self._episode = _Episode(token, task, prefix)

    def _submit(self, episode: _Episode, extra: dict[str, Any], cut: bool) -> _SaveJob:
        futures: dict[str, Future] = {}
        for key, cam in self._cams.items():
            future: Future = Future()
            cam.end(episode.token, future)
            futures[key] = future
        job = _SaveJob(episode, futures, extra, cut)
        self._saves_submitted += 1
        while self._jobs and self._jobs[0].future.done():  # one saver finishes jobs in order: O(1) amortised
            self._jobs.popleft()
        self._jobs.append(job)
        self._save_queue.put(job)
        self._episode = None
        return job

    def _cut(self, backlog_frames: int) -> None:
        """The lifecycle cut the episode: save what it holds (as a cut episode) and say so."""
        episode = self._episode
        backlog_s = backlog_frames / self._fps
        frames = 0 if episode is None else episode.length
        self._dropped_task = episode.task if episode is not None else self._dropped_task
        if episode is not None and frames > 0:
            self._cut_job = self._submit(episode, {}, cut=True)
            kept = f"the episode was cut at frame {frames} and saved"
        else:
            if episode is not None:
                self._drop_open_episode(episode)
            self._cut_job = None
            kept = "the episode had no frames yet, so nothing was saved"
        self._emit("encoder_backlog", {
            "backlog_s": backlog_s, "max_backlog_s": self.spec.max_encoder_backlog_s,
            "cut_frames": frames, "message": f"video encoding is {backlog_s:.1f} s behind; {kept}; frames are "
            "dropped until the encoders catch up",
        })

    def _report_drops(self) -> None:
        run = self._life.take_drop_run()
        if run:
            self._emit("frames_dropped", {"count": run, "total": self._life.dropped_total})

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(kind, data)
        except Exception:
            log.exception("recorder: event callback failed for %s", kind)

    # ------------------------------------------------------------------ saver thread

    def _save_loop(self) -> None:
        # The saver keeps the process's normal priority (unlike the encoders, which are lowered so the
        # control thread wins the CPU): its work is short bursts of Python (~30 ms of CPU per save) that
        # hold the GIL. Lowered, it was preempted by the encoders while holding the GIL, and the control
        # thread then waited behind a thread that waited behind the encoders (priority inversion).
        try:
            self._save_jobs()
        finally:
            self._writer.lock.release()  # only now may another recorder open this dataset

    def _save_jobs(self) -> None:
        while True:
            job = self._save_queue.get()
            if job is None:
                return
            try:
                self._save(job)
            except Exception as exc:  # the saver must never die
                log.exception("recorder: saving failed")
                self._last_error = str(exc)
                if not job.future.done():
                    job.future.set_exception(exc if isinstance(exc, RecordingError) else RecordingError(str(exc)))
                self._emit("episode_failed", {"error": str(exc), "task": job.episode.task,
                                              "frames": job.episode.length})
                self._writer.discard_staging(job.episode.token.uid)
            finally:
                self._saves_done += 1

    def _save(self, job: _SaveJob) -> None:
        episode = job.episode
        results = {}
        errors = []
        for key, future in job.cameras.items():
            try:
                results[key] = future.result()
            except Exception as exc:
                errors.append(str(exc))
        if errors:
            raise RecordingError(f"episode not saved: {'; '.join(errors)}")
        columns = stack_columns(self._features, episode.rows, episode.prefix, bool(self._env_width),
                                self._has_intervention)
        with job.lock:
            if self._abandoned:
                raise RecordingError("episode not saved: the recorder was closed before its save finished")
            job.committing = True
            extra = dict(job.extra)
        data = EpisodeData(uid=episode.token.uid, task=episode.task, length=episode.length, columns=columns,
                           cameras=results, extra=extra, cut=job.cut)
        row = self._writer.write_episode(data)
        saved_at = time.time()
        self._saved_at[row.index] = saved_at
        if job.cut:
            self._cut_episodes.add(row.index)
        info = self._writer.episode_info(row, saved_at, False, job.cut)
        job.future.set_result(info)
        self._emit("episode_saved", {**info.as_dict(), "save_latency_s": time.perf_counter() - job.submitted})
