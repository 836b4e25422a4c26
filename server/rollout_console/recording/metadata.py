"""Committed dataset metadata: load, validate, and commit one episode atomically.

Commit protocol (called once the episode's data and video files are durable in their final place):

1. ``meta/tasks.parquet``            rewritten atomically, only when a new task appears (a superset is
                                       harmless: an unused task is never referenced);
2. ``meta/episodes/.../file-F.parquet`` the current episodes file, rewritten atomically with the new row
                                       appended: **this rename is the commit point**;
3. ``meta/stats.json``, ``meta/info.json`` rewritten atomically. They are derived data: recovery
                                       recomputes them from the episodes files if a crash came between 2
                                       and 3.

Every write is temp file + fsync + rename + fsync(directory), so power loss leaves the old or the new
version of each file, never a torn one. Episodes files other than the current one are never rewritten
(except by a schema migration on open), and data/video files are never rewritten at all.
"""

from __future__ import annotations

import copy
import io
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import RecordingError
from .fsio import atomic_write_bytes, json_bytes
from .layout import (
    CHUNKS_SIZE,
    CODEBASE_VERSION,
    DATA_FILES_SIZE_IN_MB,
    DATA_PATH,
    INFO_PATH,
    INTERVENTION,
    STAT_KEYS,
    STATS_PATH,
    TASKS_PATH,
    VIDEO_FILES_SIZE_IN_MB,
    VIDEO_PATH,
    episodes_relpath,
    video_keys,
)
from .stats import aggregate_stats, stats_to_json

__all__ = [
    "EXTRA_TYPES",
    "DatasetMeta",
    "Snapshot",
    "compare_features",
    "episode_arrow_schema",
    "read_tasks",
    "tasks_parquet_bytes",
]

EPISODES_PER_META_FILE = 200
"""Rows per episodes file before a new one is started (bounds the cost of each atomic rewrite)."""
_META_FILE_LIMIT_BYTES = 8 * 1024 * 1024

EXTRA_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "bool": pa.bool_(),
    "int64": pa.int64(),
    "float64": pa.float64(),
}
"""Types allowed for caller-defined per-episode columns (``outcome``: string, nullable)."""


def fps_value(fps: float) -> int | float:
    return int(fps) if float(fps).is_integer() else float(fps)


def _stat_type(feature: Mapping[str, Any], stat: str) -> pa.DataType:
    if stat == "count":
        return pa.list_(pa.int64())
    if feature["dtype"] in ("video", "image"):
        return pa.list_(pa.list_(pa.list_(pa.float64())))
    return pa.list_(pa.float64())


def episode_arrow_schema(features: Mapping[str, Mapping[str, Any]], extras: Mapping[str, str]) -> pa.Schema:
    """Columns of an episodes metadata row as this writer produces them."""
    fields = [
        pa.field("episode_index", pa.int64()),
        pa.field("tasks", pa.list_(pa.string())),
        pa.field("length", pa.int64()),
        pa.field("data/chunk_index", pa.int64()),
        pa.field("data/file_index", pa.int64()),
        pa.field("dataset_from_index", pa.int64()),
        pa.field("dataset_to_index", pa.int64()),
    ]
    for key in video_keys(features):
        fields += [
            pa.field(f"videos/{key}/chunk_index", pa.int64()),
            pa.field(f"videos/{key}/file_index", pa.int64()),
            pa.field(f"videos/{key}/from_timestamp", pa.float64()),
            pa.field(f"videos/{key}/to_timestamp", pa.float64()),
        ]
    fields += [pa.field("meta/episodes/chunk_index", pa.int64()), pa.field("meta/episodes/file_index", pa.int64())]
    for key, feature in features.items():
        for stat in STAT_KEYS:
            fields.append(pa.field(f"stats/{key}/{stat}", _stat_type(feature, stat)))
    for name, kind in extras.items():
        fields.append(pa.field(name, EXTRA_TYPES[kind], nullable=True))
    return pa.schema(fields)


def tasks_parquet_bytes(tasks: Sequence[str]) -> bytes:
    """``meta/tasks.parquet`` as pandas writes a DataFrame indexed by ``task`` with a ``task_index`` column.

    pandas is not needed: the pandas schema metadata that makes ``pd.read_parquet`` restore the index
    is written by hand.
    """
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": pa.array(list(tasks), pa.string())})
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode", "numpy_type": "object",
                            "metadata": {"encoding": "UTF-8"}}],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64",
             "metadata": None},
            {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object",
             "metadata": None},
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }
    table = table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})
    return _parquet_bytes(table)


def read_tasks(path: Path) -> list[str]:
    """Task strings ordered by task_index, from a tasks.parquet written by us or by pandas."""
    table = pq.read_table(path)
    names = table.column_names
    task_col = "task" if "task" in names else "__index_level_0__" if "__index_level_0__" in names else None
    if task_col is None or "task_index" not in names:
        raise RecordingError(f"dataset: {path} has no task/task_index columns")
    pairs = sorted(zip(table.column("task_index").to_pylist(), table.column(task_col).to_pylist(), strict=True))
    if [i for i, _ in pairs] != list(range(len(pairs))):
        raise RecordingError(f"dataset: {path} has non-contiguous task indices")
    return [t for _, t in pairs]


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def compare_features(existing: Mapping[str, Mapping[str, Any]], wanted: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Human-readable differences between a dataset's features and this session's (empty if compatible)."""
    problems: list[str] = []
    if (INTERVENTION in existing) != (INTERVENTION in wanted):
        if INTERVENTION in existing:
            problems.append("the dataset has an 'intervention' column but this strategy does not record one")
        else:
            problems.append("the dataset has no 'intervention' column but this strategy records one")
    for key in existing:
        if key not in wanted and key != INTERVENTION:
            problems.append(f"feature {key!r} is in the dataset but not recorded now")
    for key in wanted:
        if key not in existing and key != INTERVENTION:
            problems.append(f"feature {key!r} is recorded now but missing from the dataset")
    for key in wanted:
        if key not in existing:
            continue
        old, new = existing[key], wanted[key]
        if old["dtype"] != new["dtype"]:
            problems.append(f"{key}: dtype {old['dtype']} in the dataset, {new['dtype']} now")
        if list(old["shape"]) != list(new["shape"]):
            problems.append(f"{key}: shape {list(old['shape'])} in the dataset, {list(new['shape'])} now")
        old_names = old.get("names")
        new_names = new.get("names")
        if old_names != new_names and not (key in _DEFAULT_KEYS and not old_names and not new_names):
            problems.append(f"{key}: names {old_names} in the dataset, {new_names} now")
    return problems


_DEFAULT_KEYS = {"timestamp", "frame_index", "episode_index", "index", "task_index"}


@dataclass(frozen=True)
class Snapshot:
    """A consistent view of the dataset at one commit, for uploads.

    ``meta`` holds the bytes of the metadata files that are rewritten by later commits, exactly as
    committed; ``files`` lists the immutable files (data, videos, older episodes files) they reference.
    """

    episodes: int
    frames: int
    meta: dict[str, bytes]
    files: tuple[str, ...]


@dataclass
class EpisodeRow:
    """What the recorder remembers of each committed episode (no stats)."""

    index: int
    length: int
    tasks: list[str]
    data_file: tuple[int, int]
    video_files: dict[str, tuple[int, int]]
    extra: dict[str, Any] = field(default_factory=dict)


class DatasetMeta:
    """In-memory mirror of the committed metadata plus the commit operation (one writer thread)."""

    def __init__(self, root: Path, info: dict[str, Any], tasks: list[str], extras: Mapping[str, str]) -> None:
        self.root = root
        self.info = info
        self.tasks = list(tasks)
        self.extras = dict(extras)
        self.rows: list[EpisodeRow] = []
        self.stats: dict[str, dict[str, np.ndarray]] = {}
        self.meta_file: tuple[int, int] = (0, 0)
        self.meta_table: pa.Table | None = None
        self.older_meta_files: list[str] = []
        self.schema = episode_arrow_schema(self.features, self.extras)
        self._to_index = 0
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._meta_bytes: dict[str, bytes] = {}
        self._tasks_cache: dict[str, bytes] = {}

    # ------------------------------------------------------------------ construction

    @staticmethod
    def new_info(features: Mapping[str, Any], fps: float, robot_type: str | None, video: bool) -> dict[str, Any]:
        return {
            "codebase_version": CODEBASE_VERSION,
            "robot_type": robot_type,
            "total_episodes": 0,
            "total_frames": 0,
            "total_tasks": 0,
            "chunks_size": CHUNKS_SIZE,
            "data_files_size_in_mb": DATA_FILES_SIZE_IN_MB,
            "video_files_size_in_mb": VIDEO_FILES_SIZE_IN_MB,
            "fps": fps_value(fps),
            "splits": {},
            "data_path": DATA_PATH,
            "video_path": VIDEO_PATH if video and video_keys(features) else None,
            "features": copy.deepcopy(dict(features)),
        }

    @property
    def features(self) -> dict[str, dict[str, Any]]:
        return self.info["features"]

    @property
    def total_episodes(self) -> int:
        return len(self.rows)

    @property
    def total_frames(self) -> int:
        return self._to_index

    # ------------------------------------------------------------------ loading

    def load_rows(self, tables: Sequence[tuple[tuple[int, int], pa.Table]]) -> None:
        """Adopt committed episodes files (already schema-unified and validated by recovery)."""
        self.rows = []
        self.older_meta_files = []
        self._to_index = 0
        per_episode_stats = []
        for position, (chunk_file, table) in enumerate(tables):
            last = position == len(tables) - 1
            for record in table.to_pylist():
                self.rows.append(self._row_from_record(record))
                self._to_index = int(record["dataset_to_index"])
            per_episode_stats.append(_stats_from_table(table, self.features))
            if last:
                self.meta_file = chunk_file
                self.meta_table = table
            else:
                self.older_meta_files.append(episodes_relpath(*chunk_file))
        if tables:
            self.schema = tables[-1][1].schema
        merged = [s for group in per_episode_stats for s in group]
        self.stats = aggregate_stats(merged) if merged else {}
        if self.meta_table is not None and (
            self.meta_table.num_rows >= EPISODES_PER_META_FILE or self.meta_table.nbytes > _META_FILE_LIMIT_BYTES
        ):
            self._roll_meta_file()

    def _row_from_record(self, record: Mapping[str, Any]) -> EpisodeRow:
        videos = {
            key: (int(record[f"videos/{key}/chunk_index"]), int(record[f"videos/{key}/file_index"]))
            for key in video_keys(self.features)
        }
        return EpisodeRow(
            index=int(record["episode_index"]),
            length=int(record["length"]),
            tasks=list(record["tasks"] or []),
            data_file=(int(record["data/chunk_index"]), int(record["data/file_index"])),
            video_files=videos,
            extra={name: record.get(name) for name in self.extras},
        )

    def _roll_meta_file(self) -> None:
        if self.meta_table is not None:
            self.older_meta_files.append(episodes_relpath(*self.meta_file))
            chunk, file = self.meta_file
            self.meta_file = (chunk + 1, 0) if file >= CHUNKS_SIZE - 1 else (chunk, file + 1)
        self.meta_table = None

    # ------------------------------------------------------------------ next file positions

    def next_data_file(self) -> tuple[int, int]:
        if not self.rows:
            return (0, 0)
        chunk, file = self.rows[-1].data_file
        return (chunk + 1, 0) if file >= CHUNKS_SIZE - 1 else (chunk, file + 1)

    def next_video_file(self, key: str) -> tuple[int, int]:
        if not self.rows:
            return (0, 0)
        chunk, file = self.rows[-1].video_files[key]
        return (chunk + 1, 0) if file >= CHUNKS_SIZE - 1 else (chunk, file + 1)

    # ------------------------------------------------------------------ commit

    def commit_episode(
        self,
        *,
        length: int,
        task: str,
        data_file: tuple[int, int],
        video_files: Mapping[str, tuple[int, int]],
        episode_stats: Mapping[str, Mapping[str, np.ndarray]],
        extra: Mapping[str, Any],
        video_info: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> EpisodeRow:
        """Append one episode whose files are already durable; returns its row once committed."""
        index = self.total_episodes
        from_index = self._to_index
        to_index = from_index + length
        fps = float(self.info["fps"])
        tasks = list(self.tasks)
        if task not in tasks:
            tasks.append(task)
        record: dict[str, Any] = {
            "episode_index": index,
            "tasks": [task],
            "length": length,
            "data/chunk_index": data_file[0],
            "data/file_index": data_file[1],
            "dataset_from_index": from_index,
            "dataset_to_index": to_index,
        }
        for key in video_keys(self.features):
            chunk, file = video_files[key]
            record[f"videos/{key}/chunk_index"] = chunk
            record[f"videos/{key}/file_index"] = file
            record[f"videos/{key}/from_timestamp"] = 0.0
            record[f"videos/{key}/to_timestamp"] = length / fps
        record["meta/episodes/chunk_index"] = self.meta_file[0]
        record["meta/episodes/file_index"] = self.meta_file[1]
        for key in self.features:
            if key not in episode_stats:
                raise RecordingError(f"dataset: no statistics for feature {key!r}")
            for stat in STAT_KEYS:
                record[f"stats/{key}/{stat}"] = np.asarray(episode_stats[key][stat]).tolist()
        unknown = set(extra) - set(self.extras)
        if unknown:
            raise RecordingError(f"dataset: undeclared per-episode columns {sorted(unknown)}; declare them when "
                                 "opening the recorder")
        for name in self.extras:
            record[name] = extra.get(name)

        row_table = _conform(pa.Table.from_pylist([record]), self.schema)
        table = row_table if self.meta_table is None else pa.concat_tables([self.meta_table, row_table])
        new_stats = aggregate_stats([self.stats, episode_stats]) if self.stats else aggregate_stats([episode_stats])
        info = copy.deepcopy(self.info)
        if video_info:
            for key, block in video_info.items():
                if "info" not in info["features"][key]:
                    info["features"][key]["info"] = dict(block)
        info["total_episodes"] = index + 1
        info["total_frames"] = to_index
        info["total_tasks"] = len(tasks)
        info["splits"] = {"train": f"0:{index + 1}"}

        tasks_bytes = tasks_parquet_bytes(tasks) if tasks != self.tasks else None
        episodes_bytes = _parquet_bytes(table)
        stats_bytes = json_bytes(stats_to_json(new_stats))
        info_bytes = json_bytes(info)
        if tasks_bytes is not None:
            atomic_write_bytes(self.root / TASKS_PATH, tasks_bytes)
        atomic_write_bytes(self.root / episodes_relpath(*self.meta_file), episodes_bytes)  # commit point
        atomic_write_bytes(self.root / STATS_PATH, stats_bytes)
        atomic_write_bytes(self.root / INFO_PATH, info_bytes)

        row = EpisodeRow(index, length, [task], (data_file[0], data_file[1]),
                         {k: (v[0], v[1]) for k, v in video_files.items()},
                         {name: extra.get(name) for name in self.extras})
        with self._lock:
            self.tasks = tasks
            self.info = info
            self.stats = new_stats
            self.meta_table = table
            self.rows.append(row)
            self._to_index = to_index
            self._snapshot = None
            current_meta = episodes_relpath(*self.meta_file)
            self._meta_bytes = {INFO_PATH: info_bytes, STATS_PATH: stats_bytes, current_meta: episodes_bytes}
            if tasks_bytes is not None or not self._tasks_cache:
                self._tasks_cache = {TASKS_PATH: tasks_bytes or tasks_parquet_bytes(tasks)}
        if table.num_rows >= EPISODES_PER_META_FILE or len(episodes_bytes) > _META_FILE_LIMIT_BYTES:
            with self._lock:
                self._roll_meta_file()
        return row

    def write_initial(self) -> None:
        """A brand-new dataset: info.json only (LeRobot writes the rest with the first episode)."""
        atomic_write_bytes(self.root / INFO_PATH, json_bytes(self.info))

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> Snapshot:
        """The latest committed state, with the bytes of every metadata file as committed."""
        with self._lock:
            if self._snapshot is not None:
                return self._snapshot
            meta: dict[str, bytes] = {}
            if self.rows:
                if not self._meta_bytes:
                    self._meta_bytes = self._read_current_meta()
                meta.update(self._meta_bytes)
                if not self._tasks_cache:
                    self._tasks_cache = {TASKS_PATH: tasks_parquet_bytes(self.tasks)}
                meta.update(self._tasks_cache)
            else:
                meta[INFO_PATH] = json_bytes(self.info)
            files: set[str] = set(self.older_meta_files)
            for row in self.rows:
                files.add(DATA_PATH.format(chunk_index=row.data_file[0], file_index=row.data_file[1]))
                for key, (chunk, file) in row.video_files.items():
                    files.add(VIDEO_PATH.format(video_key=key, chunk_index=chunk, file_index=file))
            files -= set(meta)
            self._snapshot = Snapshot(len(self.rows), self._to_index, meta, tuple(sorted(files)))
            return self._snapshot

    def _read_current_meta(self) -> dict[str, bytes]:
        """Metadata bytes straight after opening (recovery left the files consistent)."""
        out = {INFO_PATH: (self.root / INFO_PATH).read_bytes(), STATS_PATH: (self.root / STATS_PATH).read_bytes()}
        # after a roll the current file does not exist yet: the last written one is in older_meta_files
        current = episodes_relpath(*self.meta_file)
        if (self.root / current).exists() and self.meta_table is not None:
            out[current] = (self.root / current).read_bytes()
        return out


def _stats_from_table(table: pa.Table, features: Mapping[str, Any]) -> list[dict[str, dict[str, np.ndarray]]]:
    """Per-episode stats stored in an episodes metadata table."""
    columns = {name: table.column(name).to_pylist() for name in table.column_names if name.startswith("stats/")}
    result = []
    for i in range(table.num_rows):
        episode: dict[str, dict[str, np.ndarray]] = {}
        for key in features:
            values = {}
            for stat in STAT_KEYS:
                column = columns.get(f"stats/{key}/{stat}")
                if column is None or column[i] is None:
                    break
                values[stat] = np.asarray(column[i], dtype=np.int64 if stat == "count" else np.float64)
            else:
                episode[key] = values
        result.append(episode)
    return result


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Reorder/cast a table to ``schema``; missing nullable columns become nulls."""
    arrays = []
    for schema_field in schema:
        if schema_field.name in table.column_names:
            column = table.column(schema_field.name)
            if column.type != schema_field.type:
                try:
                    column = column.cast(schema_field.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:  # never truncate silently
                    raise RecordingError(f"dataset: episodes metadata column {schema_field.name!r} is "
                                         f"{column.type}, expected {schema_field.type}: {exc}") from None
            arrays.append(column)
        else:
            arrays.append(pa.nulls(table.num_rows, schema_field.type))
    missing = [name for name in table.column_names if name not in schema.names]
    if missing:
        raise RecordingError(f"dataset: episodes metadata lacks columns {missing}")
    return pa.Table.from_arrays(arrays, schema=schema)
