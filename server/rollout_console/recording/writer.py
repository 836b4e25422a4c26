"""DatasetWriter: opens (create / resume with recovery) a v3 dataset and commits finished episodes.

Used by the recorder's saver thread only; nothing here runs on the control thread. An episode arrives
with its per-frame low-dimensional arrays and one finished, fsync'd staging file per camera. The writer

1. writes the data parquet to the staging area, fsyncs it and renames it to its final name;
2. renames each camera's MP4 (or keeps the PNG bytes inside the parquet for image features);
3. commits the metadata (see ``metadata.py``: the episodes-file rename is the commit point).

If anything fails before the commit point, the files already renamed are orphans: nothing references
them, the next commit reuses (overwrites) their names, and recovery deletes them on the next open.
"""

from __future__ import annotations

import os
import shutil

try:
    import fcntl
except ImportError:  # pragma: no cover - not Linux/macOS
    fcntl = None  # type: ignore[assignment]
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import RecordingError
from ..features import ACTION, ENV_STATE, STATE
from .fsio import durable_rename, fsync_dir, make_dirs
from .layout import (
    INFO_PATH,
    INTERVENTION,
    STATE_DIR,
    camera_keys,
    data_relpath,
    feature_arrow_type,
    frame_arrow_schema,
    video_keys,
    video_relpath,
)
from .metadata import EXTRA_TYPES, DatasetMeta, EpisodeRow, compare_features, fps_value
from .recovery import RecoveryReport, load_info, recover
from .stats import vector_stats
from .video import VideoSettings

__all__ = ["CameraResult", "DatasetWriter", "EpisodeData", "EpisodeInfo", "RecorderSpec"]


@dataclass(frozen=True)
class RecorderSpec:
    """Everything needed to create or resume a dataset and record into it."""

    root: Path
    repo_id: str
    fps: float
    features: Mapping[str, Mapping[str, Any]]
    robot_type: str | None = None
    video: VideoSettings | None = field(default_factory=VideoSettings)
    extras: Mapping[str, str] = field(default_factory=dict)
    """Caller-defined per-episode columns, name -> type (string, bool, int64, float64), all nullable."""
    max_encoder_backlog_s: float = 10.0
    copy_images: bool = False
    """Copy camera arrays in add_frame (only needed if the caller reuses its arrays)."""

    def __post_init__(self) -> None:
        for name, kind in self.extras.items():
            if kind not in EXTRA_TYPES:
                raise ValueError(f"extra column {name!r}: type {kind!r} is not one of {sorted(EXTRA_TYPES)}")
            if name in self.features or "/" in name or name in _RESERVED_COLUMNS:
                raise ValueError(f"extra column name {name!r} is reserved or invalid")
        kinds = {ft["dtype"] for ft in self.features.values() if ft["dtype"] in ("video", "image")}
        if "video" in kinds and self.video is None:
            raise ValueError("video features need VideoSettings")

    @classmethod
    def from_config(
        cls,
        config: Any,
        *,
        root: Path,
        repo_id: str,
        layout: Any,
        fps: float,
        robot_type: str | None,
        intervention: bool = False,
        extras: Mapping[str, str] | None = None,
    ) -> RecorderSpec:
        """Build a spec from a ``DatasetConfig`` and the session's feature layout."""
        from .layout import dataset_features

        settings = VideoSettings(vcodec=config.vcodec, crf=config.crf, preset=config.preset, gop=config.gop,
                                 threads=config.encoder_threads, nice=config.encoder_nice) if config.video else None
        return cls(
            root=Path(root),
            repo_id=repo_id,
            fps=float(config.fps or fps),
            features=dataset_features(layout, video=config.video, intervention=intervention),
            robot_type=robot_type,
            video=settings,
            extras=dict(extras or {}),
            max_encoder_backlog_s=config.max_encoder_backlog_s,
        )


_RESERVED_COLUMNS = {"episode_index", "tasks", "length", "dataset_from_index", "dataset_to_index"}


@dataclass
class CameraResult:
    """What a camera worker hands over for one episode."""

    frames: int
    stats: dict[str, np.ndarray]
    video_path: Path | None = None
    video_info: dict[str, Any] | None = None
    png_blob: Path | None = None
    png_offsets: list[int] | None = None


@dataclass
class EpisodeData:
    """A finished episode as the saver receives it (low-dim arrays, camera results, labels)."""

    uid: str
    task: str
    length: int
    columns: dict[str, np.ndarray]
    cameras: dict[str, CameraResult]
    extra: dict[str, Any]
    cut: bool = False


@dataclass(frozen=True)
class EpisodeInfo:
    """A committed episode as the console shows it."""

    index: int
    length: int
    duration_s: float
    task: str
    saved_at: float | None
    uploaded: bool
    extra: dict[str, Any]
    cut: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "length": self.length, "duration_s": self.duration_s, "task": self.task,
                "saved_at": self.saved_at, "uploaded": self.uploaded, "extra": dict(self.extra), "cut": self.cut}


class DatasetWriter:
    """Owns the dataset directory while recording; every method runs on the saver thread."""

    def __init__(self, spec: RecorderSpec, meta: DatasetMeta, recovery: RecoveryReport | None,
                 lock: DatasetLock) -> None:
        self.spec = spec
        self.meta = meta
        self.recovery = recovery
        self.root = spec.root
        self.lock = lock
        self.staging = spec.root / STATE_DIR / "staging"
        make_dirs(self.staging)
        self._schema = frame_arrow_schema(meta.features)

    # ------------------------------------------------------------------ open

    @classmethod
    def create(cls, spec: RecorderSpec) -> DatasetWriter:
        root = spec.root
        if root.exists() and any(p for p in root.iterdir() if p.name != ".cache"):
            raise RecordingError(f"dataset: {root} already exists; resume it (--resume=true) or choose another "
                                 "--dataset.repo_id / --dataset.root")
        lock = DatasetLock.acquire(root)
        try:
            if any(p for p in root.iterdir() if p.name != ".cache"):  # someone was faster
                raise RecordingError(f"dataset: {root} already exists; resume it (--resume=true) or choose "
                                     "another --dataset.repo_id / --dataset.root")
            info = DatasetMeta.new_info(spec.features, spec.fps, spec.robot_type, spec.video is not None)
            meta = DatasetMeta(root, info, [], spec.extras)
            meta.write_initial()
            return cls(spec, meta, None, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def resume(cls, spec: RecorderSpec) -> DatasetWriter:
        """Check compatibility (nothing is touched on a mismatch), then recover and load."""
        root = spec.root
        if not (root / INFO_PATH).exists():
            raise RecordingError(f"dataset: cannot resume {root}: no {INFO_PATH} there (create it instead)")
        lock = DatasetLock.acquire(root)
        try:
            _check_compatible(spec, load_info(root))
            info, tasks, tables, report = recover(root, spec.extras)
            _check_compatible(spec, info)  # recovery may have completed the video info
            meta = DatasetMeta(root, info, tasks, spec.extras)
            meta.load_rows(tables)
            return cls(spec, meta, report, lock)
        except BaseException:
            lock.release()
            raise

    # ------------------------------------------------------------------ commit one episode

    def episode_staging(self, uid: str) -> Path:
        path = self.staging / uid
        make_dirs(path)
        return path

    def discard_staging(self, uid: str) -> None:
        path = self.staging / uid
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
            fsync_dir(self.staging)

    def write_episode(self, episode: EpisodeData) -> EpisodeRow:
        features = self.meta.features
        length = episode.length
        for key in camera_keys(features):
            result = episode.cameras.get(key)
            if result is None or result.frames != length:
                got = None if result is None else result.frames
                raise RecordingError(f"episode: camera {key} has {got} frames for {length} rows; not saved")
        data_file = self.meta.next_data_file()
        video_files = {key: self.meta.next_video_file(key) for key in video_keys(features)}
        task_index = self.meta.tasks.index(episode.task) if episode.task in self.meta.tasks else len(self.meta.tasks)
        episode_index = self.meta.total_episodes
        from_index = self.meta.total_frames

        frame_index = np.arange(length, dtype=np.int64)
        bookkeeping: dict[str, np.ndarray] = {
            "timestamp": (frame_index / float(self.spec.fps)).astype(np.float32),
            "frame_index": frame_index,
            "episode_index": np.full(length, episode_index, dtype=np.int64),
            "index": from_index + frame_index,
            "task_index": np.full(length, task_index, dtype=np.int64),
        }
        columns = {**episode.columns, **bookkeeping}
        arrays = []
        for schema_field in self._schema:
            key = schema_field.name
            feature = features[key]
            if feature["dtype"] == "image":
                arrays.append(self._png_column(episode.cameras[key], length))
            else:
                arrays.append(_arrow_column(columns[key], feature, schema_field.type))
        table = pa.Table.from_arrays(arrays, schema=self._schema)

        staging = self.episode_staging(episode.uid)
        staged = staging / "data.parquet"
        with open(staged, "wb") as handle:
            pq.write_table(table, handle, compression="snappy")
            handle.flush()
            os.fsync(handle.fileno())
        placed: list[Path] = []  # files moved into the dataset before the commit, removed if it never happens
        try:
            data_path = self.root / data_relpath(*data_file)
            durable_rename(staged, data_path)
            placed.append(data_path)
            video_info: dict[str, dict[str, Any]] = {}
            for key in video_keys(features):
                result = episode.cameras[key]
                if result.video_path is None:
                    raise RecordingError(f"episode: camera {key} produced no video file; not saved")
                video_path = self.root / video_relpath(key, *video_files[key])
                durable_rename(result.video_path, video_path)
                placed.append(video_path)
                if result.video_info:
                    video_info[key] = result.video_info

            stats: dict[str, dict[str, np.ndarray]] = {}
            for key, feature in features.items():
                if feature["dtype"] in ("video", "image"):
                    stats[key] = episode.cameras[key].stats
                else:
                    stats[key] = vector_stats(columns[key])
        except BaseException:
            for path in placed:  # no metadata names them yet: leave no file the reader would pick up
                path.unlink(missing_ok=True)
            raise
        row = self.meta.commit_episode(
            length=length, task=episode.task, data_file=data_file, video_files=video_files,
            episode_stats=stats, extra=episode.extra, video_info=video_info,
        )
        self.discard_staging(episode.uid)
        return row

    def _png_column(self, result: CameraResult, length: int) -> pa.Array:
        assert result.png_blob is not None and result.png_offsets is not None
        blob = result.png_blob.read_bytes()
        offsets = result.png_offsets
        images = [blob[offsets[i]:offsets[i + 1]] for i in range(length)]
        paths = [f"frame-{i:06d}.png" for i in range(length)]
        return pa.StructArray.from_arrays([pa.array(images, pa.binary()), pa.array(paths, pa.string())],
                                          names=["bytes", "path"])

    def episode_info(self, row: EpisodeRow, saved_at: float | None = None, uploaded: bool = False,
                     cut: bool = False) -> EpisodeInfo:
        return EpisodeInfo(index=row.index, length=row.length, duration_s=row.length / float(self.spec.fps),
                           task=row.tasks[0] if row.tasks else "", saved_at=saved_at, uploaded=uploaded,
                           extra=dict(row.extra), cut=cut)


def _check_compatible(spec: RecorderSpec, info: Mapping[str, Any]) -> None:
    problems = compare_features(info["features"], spec.features)
    if float(info["fps"]) != float(spec.fps):
        problems.insert(0, f"fps is {fps_value(info['fps'])} in the dataset but {fps_value(spec.fps)} now")
    if info.get("robot_type") != spec.robot_type:
        problems.append(f"robot_type is {info.get('robot_type')!r} in the dataset but {spec.robot_type!r} now")
    if spec.video is not None:
        codec = {"libsvtav1": "av1", "h264": "h264"}[spec.video.vcodec]
        for key in video_keys(info["features"]):
            stored = (info["features"][key].get("info") or {}).get("video.codec")
            if stored and stored != codec:
                problems.append(f"{key}: videos are {stored} in the dataset but --dataset.vcodec="
                                f"{spec.video.vcodec} now")
                break
    if problems:
        raise RecordingError(f"dataset: cannot resume {spec.root}: " + "; ".join(problems))


class DatasetLock:
    """An exclusive lock on a dataset directory (flock), held while a recorder writes to it.

    Two consoles (or a console and its own restarted recorder whose saves have not finished) must not
    commit to, or recover, the same dataset at once. The kernel drops the lock when the process dies,
    so a kill -9 never leaves a stale lock behind.
    """

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @classmethod
    def acquire(cls, root: Path) -> DatasetLock:
        if fcntl is None:  # pragma: no cover - not Linux/macOS
            return cls(None)
        directory = root / STATE_DIR
        make_dirs(directory)
        path = directory / "lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RecordingError(f"dataset: {root} is being recorded by another recorder (pid {holder}); "
                                 "stop it first") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(fd)

    def release(self) -> None:
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None


def _arrow_column(values: np.ndarray, feature: Mapping[str, Any], arrow_type: pa.DataType) -> pa.Array:
    data = np.asarray(values)
    if list(feature["shape"]) == [1]:
        return pa.array(data.reshape(-1), type=arrow_type)
    width = int(feature["shape"][0])
    flat = pa.array(np.ascontiguousarray(data.reshape(-1)), type=feature_arrow_type({**feature, "shape": [1]}))
    return pa.FixedSizeListArray.from_arrays(flat, width)


def stack_columns(features: Mapping[str, Mapping[str, Any]], rows: Sequence[tuple], prefix: Sequence[Mapping[str, Any]],
                  has_env: bool, has_intervention: bool) -> dict[str, np.ndarray]:
    """Per-feature arrays of an episode: ring-buffer prefix frames first, then live rows."""
    states: list[np.ndarray] = []
    envs: list[np.ndarray] = []
    actions: list[np.ndarray] = []
    flags: list[bool] = []
    for frame in prefix:
        states.append(np.asarray(frame[STATE], dtype=np.float32))
        actions.append(np.asarray(frame[ACTION], dtype=np.float32))
        if has_env:
            envs.append(np.asarray(frame[ENV_STATE], dtype=np.float32))
        if has_intervention:
            flags.append(bool(np.asarray(frame.get(INTERVENTION, False)).reshape(-1)[0]))
    for state, env, action, flag in rows:
        states.append(state)
        actions.append(action)
        if has_env:
            envs.append(env)
        if has_intervention:
            flags.append(flag)
    columns = {STATE: _stack(states, features[STATE]), ACTION: _stack(actions, features[ACTION])}
    if has_env:
        columns[ENV_STATE] = _stack(envs, features[ENV_STATE])
    if has_intervention:
        columns[INTERVENTION] = np.array(flags, dtype=bool)
    return columns


def _stack(values: list[np.ndarray], feature: Mapping[str, Any]) -> np.ndarray:
    width = int(feature["shape"][0])
    array = np.stack(values).astype(np.float32) if values else np.zeros((0, width), np.float32)
    if array.ndim != 2 or array.shape[1] != width:
        raise RecordingError(f"episode: a frame has shape {array.shape[1:]}, expected ({width},)")
    return array

