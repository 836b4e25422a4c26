"""HubUploader: pushes consistent dataset snapshots to the Hugging Face Hub in a background thread.

What is uploaded is always a *snapshot*: the metadata files exactly as they were at one commit (bytes
kept in memory by the writer, never re-read from a file that a later commit may be rewriting) plus the
immutable data/video files they reference. All of it goes into **one** Hub commit, so the Hub copy moves
from one consistent state to the next: never a half-written parquet, never metadata that names a file
the Hub does not have, never a data file that no metadata names (LeRobot's reader loads every data file).

Large files are pre-uploaded in batches first (``preupload_lfs_files``), which gives byte/file progress
and makes a retry cheap (blobs already on the Hub are skipped); the commit that follows is atomic.
Failures are retried with exponential back-off (network errors, 5xx, 429); missing or rejected
credentials stop retrying and say so in ``status()`` until ``request_upload`` is called again.
Progress and pending work persist in ``<root>/.cache/huggingface/rollout-console/upload.json``, so a
pending upload resumes after a restart. Recording never waits for any of this.

The ``HfApi`` instance is injectable (tests pass a subclass that fails on purpose); production uses the
same calls: ``create_repo``, ``preupload_lfs_files``, ``create_commit``, ``delete_tag``/``create_tag``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

from .fsio import atomic_write_json
from .layout import CODEBASE_VERSION, INFO_PATH, STATE_DIR, TASKS_PATH, episodes_relpath
from .metadata import Snapshot, read_tasks
from .recovery import load_info

__all__ = ["HubUploader", "UploadState", "snapshot_from_disk"]

log = logging.getLogger(__name__)

NO_TOKEN = "no Hugging Face token: run `hf auth login` or set HF_TOKEN"
_STATE_FILE = "upload.json"
_BATCH_BYTES = 64 * 1024 * 1024


@dataclass
class UploadState:
    """Persistent upload bookkeeping (one JSON file in the dataset's private state directory)."""

    repo_id: str
    pending: bool = False
    uploaded_episodes: int = 0
    uploaded_files: dict[str, int] = field(default_factory=dict)
    repo_created: bool = False
    card_uploaded: bool = False
    last_commit: str | None = None
    last_upload_at: float | None = None

    @classmethod
    def load(cls, path: Path, repo_id: str) -> UploadState:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls(repo_id)
        if data.get("repo_id") != repo_id:
            return cls(repo_id)  # another Hub repository: start over
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class _AuthError(Exception):
    """Credentials are missing or were rejected: do not retry until asked again."""


class HubUploader:
    """Background uploader; ``request_upload`` marks work pending, the thread does the rest."""

    def __init__(
        self,
        root: Path,
        repo_id: str,
        snapshot: Callable[[], Snapshot],
        *,
        api: HfApi | None = None,
        private: bool = False,
        tags: Sequence[str] = (),
        on_event: Callable[[str, dict[str, Any]], None] | None = None,
        base_delay_s: float = 2.0,
        max_delay_s: float = 300.0,
        batch_bytes: int = _BATCH_BYTES,
    ) -> None:
        self.root = Path(root)
        self.repo_id = repo_id
        self._snapshot = snapshot
        self.api = api if api is not None else HfApi()
        self.private = private
        self.tags = list(tags)
        self._on_event = on_event
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.batch_bytes = batch_bytes
        self._state_path = self.root / STATE_DIR / _STATE_FILE
        self.state = UploadState.load(self._state_path, repo_id)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stop = False
        self._phase = "pending" if self.state.pending else "idle"
        self._last_error: str | None = None
        self._attempts = 0
        self._next_retry_at: float | None = None
        self._progress = {"files_done": 0, "files_total": 0, "bytes_done": 0, "bytes_total": 0}
        self._request_seq = 1 if self.state.pending else 0
        self._thread = threading.Thread(target=self._run, name="hub-uploader", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ public

    def request_upload(self) -> None:
        """Upload the latest committed snapshot (again) as soon as possible; never blocks."""
        with self._lock:
            self._request_seq += 1
            self._next_retry_at = None
            self._attempts = 0
            if self._phase != "uploading":
                self._phase = "pending"
            self.state.pending = True
            self._save_state()
            self._wake.notify_all()

    def status(self) -> dict[str, Any]:
        with self._lock:
            retry_in = None if self._next_retry_at is None else max(0.0, self._next_retry_at - time.monotonic())
            return {
                "state": self._phase,
                "repo_id": self.repo_id,
                "progress": dict(self._progress),
                "last_error": self._last_error,
                "attempts": self._attempts,
                "retry_in_s": retry_in,
                "uploaded_episodes": self.state.uploaded_episodes,
                "last_upload_at": self.state.last_upload_at,
                "url": f"https://huggingface.co/datasets/{self.repo_id}",
            }

    def uploaded_episodes(self) -> int:
        return self.state.uploaded_episodes

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending or uploading (tests, shutdown); True if that happened."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._phase in ("pending", "uploading", "retrying"):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(min(remaining, 0.1))
            return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread; pending work stays recorded on disk and resumes with the next uploader."""
        with self._lock:
            self._stop = True
            self._wake.notify_all()
        self._thread.join(timeout)

    # ------------------------------------------------------------------ thread

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stop and not self._due():
                    timeout = None if self._next_retry_at is None else max(0.0, self._next_retry_at - time.monotonic())
                    self._wake.wait(timeout if timeout is not None else 1.0)
                if self._stop:
                    return
                seq = self._request_seq
                self._phase = "uploading"
                self._next_retry_at = None
                self._wake.notify_all()
            try:
                self._attempt()
            except _AuthError as exc:
                self._fail(str(exc), retry=False)
                continue
            except Exception as exc:
                self._fail(_describe(exc), retry=_retryable(exc))
                continue
            with self._lock:
                self._attempts = 0
                self._last_error = None
                if self._request_seq == seq:
                    self.state.pending = False
                    self._phase = "done"
                else:  # asked again while uploading: go round once more
                    self._phase = "pending"
                self._save_state()
                self._wake.notify_all()

    def _due(self) -> bool:
        if self._phase == "pending":
            return True
        return self._phase == "retrying" and self._next_retry_at is not None and \
            time.monotonic() >= self._next_retry_at

    def _fail(self, message: str, retry: bool) -> None:
        delay = 0.0
        with self._lock:
            self._last_error = message
            self._attempts += 1
            if retry:
                delay = min(self.max_delay_s, self.base_delay_s * 2 ** (self._attempts - 1))
                delay *= 1.0 + 0.1 * random.random()
                self._next_retry_at = time.monotonic() + delay
                self._phase = "retrying"
            else:
                self._next_retry_at = None
                self._phase = "error"
            self._wake.notify_all()
        if retry:
            log.warning("hub upload of %s failed (%s); retrying in %.1f s", self.repo_id, message, delay)
        else:
            log.error("hub upload of %s failed (%s); not retrying until asked again", self.repo_id, message)
        self._emit("upload_failed", {"error": message, "will_retry": retry, "attempts": self._attempts})

    # ------------------------------------------------------------------ one attempt

    def _attempt(self) -> None:
        """Upload the current snapshot (nothing to do when the Hub already has it)."""
        token = self.api.token or _stored_token()
        if not token:
            raise _AuthError(NO_TOKEN)
        snapshot = self._snapshot()
        if snapshot.episodes == 0:
            return
        if snapshot.episodes <= self.state.uploaded_episodes and self.state.card_uploaded:
            return
        self._emit("upload_started", {"episodes": snapshot.episodes, "repo_id": self.repo_id})
        if not self.state.repo_created:
            self.api.create_repo(self.repo_id, repo_type="dataset", private=self.private, exist_ok=True)
            with self._lock:
                self.state.repo_created = True
                self._save_state()

        new_files = []
        for relative in snapshot.files:
            size = (self.root / relative).stat().st_size
            if self.state.uploaded_files.get(relative) != size:
                new_files.append((relative, size))
        meta_items = sorted(snapshot.meta.items())
        if not self.state.card_uploaded:
            meta_items.append(("README.md", self._card().encode()))
        with self._lock:
            self._progress = {
                "files_done": 0,
                "files_total": len(new_files) + len(meta_items),
                "bytes_done": 0,
                "bytes_total": sum(s for _, s in new_files) + sum(len(b) for _, b in meta_items),
            }
        operations = [CommitOperationAdd(path_in_repo=r, path_or_fileobj=str(self.root / r)) for r, _ in new_files]
        # pre-upload the large files in batches: progress, and a retry skips what the Hub already has
        batch: list[CommitOperationAdd] = []
        batch_bytes = 0
        for operation, (_, size) in zip(operations, new_files, strict=True):
            batch.append(operation)
            batch_bytes += size
            if batch_bytes >= self.batch_bytes:
                self._preupload(batch, batch_bytes)
                batch, batch_bytes = [], 0
        if batch:
            self._preupload(batch, batch_bytes)
        operations += [CommitOperationAdd(path_in_repo=r, path_or_fileobj=data) for r, data in meta_items]
        first = self.state.uploaded_episodes
        message = f"Add episodes {first}..{snapshot.episodes - 1} ({snapshot.frames} frames in total)"
        info = self.api.create_commit(self.repo_id, operations=operations, commit_message=message,
                                      repo_type="dataset")
        self._tag()
        with self._lock:
            for relative, size in new_files:
                self.state.uploaded_files[relative] = size
            self.state.uploaded_episodes = snapshot.episodes
            self.state.card_uploaded = True
            self.state.last_commit = getattr(info, "oid", None)
            self.state.last_upload_at = time.time()
            self._progress["files_done"] = self._progress["files_total"]
            self._progress["bytes_done"] = self._progress["bytes_total"]
            self._save_state()
        self._emit("upload_done", {"episodes": snapshot.episodes, "files": len(operations),
                                   "commit": self.state.last_commit})

    def _preupload(self, batch: list[CommitOperationAdd], size: int) -> None:
        self.api.preupload_lfs_files(self.repo_id, additions=batch, repo_type="dataset")
        with self._lock:
            self._progress["files_done"] += len(batch)
            self._progress["bytes_done"] += size
            progress = dict(self._progress)
        self._emit("upload_progress", progress)

    def _tag(self) -> None:
        """Point the ``v3.0`` tag at the new head, as LeRobot's push does (its reader looks for it)."""
        try:
            self.api.delete_tag(self.repo_id, tag=CODEBASE_VERSION, repo_type="dataset")
        except HfHubHTTPError as exc:
            if _status(exc) != 404:
                raise
        self.api.create_tag(self.repo_id, tag=CODEBASE_VERSION, repo_type="dataset", exist_ok=True)

    def _card(self) -> str:
        tags = ["LeRobot", "rollout-console", *[t for t in self.tags if t not in ("LeRobot", "rollout-console")]]
        lines = ["---", "license: apache-2.0", "task_categories:", "- robotics", "tags:"]
        lines += [f"- {json.dumps(t)}" for t in tags]
        lines += ["configs:", "- config_name: default", "  data_files: data/*/*.parquet", "---", "",
                  f"# {self.repo_id}", "",
                  (f"Recorded with rollout-console in the [LeRobot](https://github.com/huggingface/lerobot) "
                   f"dataset format {CODEBASE_VERSION}. See `meta/info.json` for the features."), ""]
        return "\n".join(lines)

    # ------------------------------------------------------------------ helpers

    def _save_state(self) -> None:
        try:
            atomic_write_json(self._state_path, asdict(self.state))
        except OSError:
            log.exception("hub upload: cannot persist the upload state")

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(kind, data)
        except Exception:
            log.exception("hub upload: event callback failed for %s", kind)


def _stored_token() -> str | None:
    try:
        from huggingface_hub import get_token

        return get_token()
    except Exception:
        return os.environ.get("HF_TOKEN")


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, OfflineModeIsEnabled):
        return False
    status = _status(exc)
    if status is not None:
        return status >= 500 or status in (408, 429)
    return isinstance(exc, (ConnectionError, TimeoutError, OSError))


def _describe(exc: BaseException) -> str:
    status = _status(exc)
    if isinstance(exc, OfflineModeIsEnabled):
        return "offline mode (HF_HUB_OFFLINE=1): nothing can be uploaded"
    if status in (401, 403):
        return f"the Hub rejected the token ({status}): check `hf auth whoami` and write access to the repo"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def snapshot_from_disk(root: Path) -> Snapshot:
    """A snapshot of a dataset that no recorder is writing to (upload-only use)."""
    root = Path(root)
    info = load_info(root)
    meta: dict[str, bytes] = {INFO_PATH: (root / INFO_PATH).read_bytes()}
    files: set[str] = set()
    if info.get("total_episodes", 0) == 0:
        return Snapshot(0, 0, meta, ())
    for name in ("meta/stats.json", TASKS_PATH):
        meta[name] = (root / name).read_bytes()
    read_tasks(root / TASKS_PATH)
    import pyarrow.parquet as pq

    from .layout import DATA_PATH, VIDEO_PATH, parse_chunk_file, video_keys

    frames = 0
    base = root / "meta" / "episodes"
    for path in sorted(base.glob("*/*.parquet")):
        position = parse_chunk_file(path.relative_to(base).as_posix())
        if position is None:
            continue
        meta[episodes_relpath(*position)] = path.read_bytes()
        table = pq.read_table(path)
        for record in table.select([c for c in table.column_names if not c.startswith("stats/")]).to_pylist():
            files.add(DATA_PATH.format(chunk_index=record["data/chunk_index"], file_index=record["data/file_index"]))
            for key in video_keys(info["features"]):
                files.add(VIDEO_PATH.format(video_key=key, chunk_index=record[f"videos/{key}/chunk_index"],
                                            file_index=record[f"videos/{key}/file_index"]))
            frames = max(frames, int(record["dataset_to_index"]))
    return Snapshot(int(info["total_episodes"]), frames, meta, tuple(sorted(files)))
