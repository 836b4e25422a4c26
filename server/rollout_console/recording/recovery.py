"""Recovery on open: bring an existing dataset back to its last commit.

The committed episodes files (``meta/episodes/*/*.parquet``, each written atomically) are the source of
truth. Recovery, run every time a dataset is opened for writing:

1. removes temporary files (``.*.tmp``) and the staging area: an episode whose save had not committed is
   dropped as a whole (its staged videos have no parquet rows to match, so keeping them could only
   produce a frames/rows mismatch);
2. unifies the schema of the episodes files (an interrupted column migration is finished);
3. checks the committed rows (contiguous episode and frame indices) and that every file they
   reference exists and is complete (parquet footer and row count; MP4 index for the newest episodes);
4. deletes data and video files that no committed episode references (LeRobot's reader loads every
   ``data/*/*.parquet``, so an orphan would corrupt reads);
5. rewrites ``info.json``, ``stats.json`` and ``tasks.parquet`` when they lag behind the episodes files
   (a crash between the commit point and the derived files).

A dataset that cannot be repaired without losing committed data raises RecordingError naming the file.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import RecordingError
from .fsio import atomic_write_bytes, fsync_dir, is_temp_name, json_bytes
from .layout import (
    CODEBASE_VERSION,
    DATA_PATH,
    INFO_PATH,
    STATE_DIR,
    STATS_PATH,
    TASKS_PATH,
    VIDEO_PATH,
    parse_chunk_file,
    video_keys,
)
from .metadata import (
    _conform,
    _parquet_bytes,
    _stats_from_table,
    episode_arrow_schema,
    read_tasks,
    tasks_parquet_bytes,
)
from .stats import aggregate_stats, stats_to_json
from .video import probe_video_info

__all__ = ["RecoveryReport", "load_info", "recover"]

_DEEP_CHECK_EPISODES = 3


@dataclass
class RecoveryReport:
    """What recovery found and changed (empty lists and False flags mean the dataset was clean)."""

    removed_temp_files: list[str] = field(default_factory=list)
    dropped_interrupted_episodes: int = 0
    removed_orphans: list[str] = field(default_factory=list)
    migrated_files: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.removed_temp_files or self.dropped_interrupted_episodes or self.removed_orphans
                    or self.migrated_files or self.fixed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "removed_temp_files": list(self.removed_temp_files),
            "dropped_interrupted_episodes": self.dropped_interrupted_episodes,
            "removed_orphans": list(self.removed_orphans),
            "migrated_files": list(self.migrated_files),
            "fixed": list(self.fixed),
        }


def load_info(root: Path) -> dict[str, Any]:
    path = root / INFO_PATH
    if not path.exists():
        raise RecordingError(f"dataset: {root} has no {INFO_PATH}; it is not a LeRobot dataset")
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise RecordingError(f"dataset: {path} is unreadable: {exc}") from exc
    if info.get("codebase_version") != CODEBASE_VERSION:
        raise RecordingError(f"dataset: {root} is in format {info.get('codebase_version')!r}; only "
                             f"{CODEBASE_VERSION} can be appended to")
    return info


def recover(
    root: Path, extras: Mapping[str, str]
) -> tuple[dict[str, Any], list[str], list[tuple[tuple[int, int], pa.Table]], RecoveryReport]:
    """Repair ``root`` in place; returns (info, tasks, episodes tables in order, report)."""
    report = RecoveryReport()
    info = load_info(root)
    _sweep(root, report)
    features = info["features"]
    tables = _load_episode_tables(root)
    tables = _unify(root, tables, episode_arrow_schema(features, extras), report)
    records = _check_rows(tables)
    _check_referenced_files(root, info, records)
    _remove_orphans(root, info, records, report)
    tasks = _reconcile_tasks(root, records, report)
    info = _reconcile_info(root, info, records, tasks, report)
    _reconcile_stats(root, features, tables, report)
    return info, tasks, tables, report


# ---------------------------------------------------------------------- steps


def _sweep(root: Path, report: RecoveryReport) -> None:
    staging = root / STATE_DIR / "staging"
    if staging.exists():
        entries = sorted(staging.iterdir())
        report.dropped_interrupted_episodes = sum(1 for e in entries if e.is_dir() and any(e.iterdir()))
        for entry in entries:
            report.removed_temp_files.append(entry.relative_to(root).as_posix())
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        fsync_dir(staging)
    for top in ("meta", "data", "videos", STATE_DIR):
        base = root / top
        if not base.exists():
            continue
        paths = base.rglob("*") if top != STATE_DIR else base.glob("*")
        for path in sorted(paths):
            if path.is_file() and is_temp_name(path.name):
                path.unlink()
                report.removed_temp_files.append(path.relative_to(root).as_posix())
                fsync_dir(path.parent)


def _load_episode_tables(root: Path) -> list[tuple[tuple[int, int], pa.Table]]:
    base = root / "meta" / "episodes"
    tables: list[tuple[tuple[int, int], pa.Table]] = []
    if not base.exists():
        return tables
    for path in sorted(base.glob("*/*.parquet")):
        position = parse_chunk_file(path.relative_to(base).as_posix())
        if position is None:
            raise RecordingError(f"dataset: unexpected episodes file {path.relative_to(root)}")
        try:
            tables.append((position, pq.read_table(path)))
        except (OSError, pa.ArrowException) as exc:
            raise RecordingError(f"dataset: committed metadata {path.relative_to(root)} is unreadable ({exc}); "
                                 "the dataset was modified outside the console") from exc
    return sorted(tables, key=lambda item: item[0])


def _unify(
    root: Path, tables: list[tuple[tuple[int, int], pa.Table]], ours: pa.Schema, report: RecoveryReport
) -> list[tuple[tuple[int, int], pa.Table]]:
    """Give every episodes file the same columns (the reader concatenates them).

    The target is the union of the existing columns (first type wins) and the columns this writer
    produces (declared extras, statistics an older writer did not compute); missing cells are nulls.
    """
    if not tables:
        return tables
    fields: dict[str, pa.Field] = {}
    for _, table in tables:
        for schema_field in table.schema:
            fields.setdefault(schema_field.name, schema_field)
    for schema_field in ours:
        fields.setdefault(schema_field.name, schema_field.with_nullable(True))
    target = pa.schema(list(fields.values()))
    unified = []
    for (chunk, file), table in tables:
        if table.schema.equals(target):
            unified.append(((chunk, file), table))
            continue
        conformed = _conform(table, target)
        relative = f"meta/episodes/chunk-{chunk:03d}/file-{file:03d}.parquet"
        atomic_write_bytes(root / relative, _parquet_bytes(conformed))
        report.migrated_files.append(relative)
        unified.append(((chunk, file), conformed))
    return unified


def _check_rows(tables: list[tuple[tuple[int, int], pa.Table]]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for _, table in tables:
        names = [n for n in table.column_names if not n.startswith("stats/")]
        records.extend(table.select(names).to_pylist())
    expected_from = 0
    for position, record in enumerate(records):
        if record["episode_index"] != position:
            raise RecordingError(f"dataset: episodes metadata is not contiguous (row {position} is episode "
                                 f"{record['episode_index']})")
        length = int(record["length"])
        if length <= 0 or record["dataset_from_index"] != expected_from or \
                record["dataset_to_index"] != expected_from + length:
            raise RecordingError(f"dataset: episode {position} has inconsistent frame offsets")
        expected_from += length
    return records


def _data_files(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    files: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        path = DATA_PATH.format(chunk_index=record["data/chunk_index"], file_index=record["data/file_index"])
        files.setdefault(path, []).append(record)
    return files


def _video_files(info: Mapping[str, Any], records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    files: dict[str, list[dict[str, Any]]] = {}
    for key in video_keys(info["features"]):
        for record in records:
            path = VIDEO_PATH.format(video_key=key, chunk_index=record[f"videos/{key}/chunk_index"],
                                     file_index=record[f"videos/{key}/file_index"])
            files.setdefault(path, []).append(record)
    return files


def _check_referenced_files(root: Path, info: Mapping[str, Any], records: list[dict[str, Any]]) -> None:
    for relative, users in _data_files(records).items():
        path = root / relative
        if not path.exists():
            raise RecordingError(f"dataset: {relative} (episodes {_ids(users)}) is missing")
        try:
            rows = pq.read_metadata(path).num_rows
        except (OSError, pa.ArrowException) as exc:
            raise RecordingError(f"dataset: {relative} (episodes {_ids(users)}) is not a complete parquet "
                                 f"file: {exc}") from exc
        expected = sum(int(r["length"]) for r in users)
        if rows != expected:
            raise RecordingError(f"dataset: {relative} holds {rows} rows but its episodes {_ids(users)} "
                                 f"account for {expected}")
    recent = {r["episode_index"] for r in records[-_DEEP_CHECK_EPISODES:]}
    fps = float(info["fps"])
    for relative, users in _video_files(info, records).items():
        path = root / relative
        if not path.exists() or path.stat().st_size == 0:
            raise RecordingError(f"dataset: video {relative} (episodes {_ids(users)}) is missing")
        if not recent & {r["episode_index"] for r in users}:
            continue
        key = relative.split("/")[1]
        needed = max(round(float(r[f"videos/{key}/to_timestamp"]) * fps) for r in users)
        try:
            with av.open(str(path)) as container:
                frames = container.streams.video[0].frames
        except (av.FFmpegError, IndexError, OSError) as exc:
            raise RecordingError(f"dataset: video {relative} (episodes {_ids(users)}) is unreadable: {exc}") from exc
        if frames and frames < needed:
            raise RecordingError(f"dataset: video {relative} has {frames} frames, its episodes need {needed}")


def _ids(records: list[dict[str, Any]]) -> str:
    ids = [int(r["episode_index"]) for r in records]
    return f"{ids[0]}" if len(ids) == 1 else f"{ids[0]}..{ids[-1]}"


def _remove_orphans(root: Path, info: Mapping[str, Any], records: list[dict[str, Any]],
                    report: RecoveryReport) -> None:
    referenced = set(_data_files(records)) | set(_video_files(info, records))
    data_dir = root / "data"
    if data_dir.exists():
        for path in sorted(data_dir.glob("*/*.parquet")):
            relative = path.relative_to(root).as_posix()
            if relative not in referenced:
                path.unlink()
                fsync_dir(path.parent)
                report.removed_orphans.append(relative)
    videos_dir = root / "videos"
    if videos_dir.exists():
        for path in sorted(videos_dir.glob("*/*/*.mp4")):
            relative = path.relative_to(root).as_posix()
            inner = "/".join(relative.split("/")[2:])
            if relative not in referenced and parse_chunk_file(inner) is not None:
                path.unlink()
                fsync_dir(path.parent)
                report.removed_orphans.append(relative)


def _reconcile_tasks(root: Path, records: list[dict[str, Any]], report: RecoveryReport) -> list[str]:
    path = root / TASKS_PATH
    tasks: list[str] = []
    if path.exists():
        try:
            tasks = read_tasks(path)
        except (OSError, pa.ArrowException) as exc:
            if records:
                raise RecordingError(f"dataset: {TASKS_PATH} is unreadable: {exc}") from exc
            path.unlink()
            report.fixed.append(f"removed unreadable {TASKS_PATH}")
            return []
    missing = []
    for record in records:
        for task in record["tasks"] or []:
            if task not in tasks and task not in missing:
                missing.append(task)
    if missing:
        tasks = tasks + missing
        atomic_write_bytes(path, tasks_parquet_bytes(tasks))
        report.fixed.append(f"{TASKS_PATH}: added {len(missing)} task(s)")
    return tasks


def _reconcile_info(root: Path, info: dict[str, Any], records: list[dict[str, Any]], tasks: list[str],
                    report: RecoveryReport) -> dict[str, Any]:
    fixed = json.loads(json.dumps(info))
    count = len(records)
    fixed["total_episodes"] = count
    fixed["total_frames"] = int(records[-1]["dataset_to_index"]) if records else 0
    fixed["total_tasks"] = len(tasks)
    fixed["splits"] = {"train": f"0:{count}"} if count else {}
    if records:
        for key in video_keys(fixed["features"]):
            if "info" not in fixed["features"][key]:
                first = records[0]
                path = root / VIDEO_PATH.format(video_key=key, chunk_index=first[f"videos/{key}/chunk_index"],
                                                file_index=first[f"videos/{key}/file_index"])
                fixed["features"][key]["info"] = probe_video_info(path)
    if fixed != info:
        changed = sorted(k for k in fixed if fixed.get(k) != info.get(k))
        atomic_write_bytes(root / INFO_PATH, json_bytes(fixed))
        report.fixed.append(f"{INFO_PATH}: {', '.join(changed)}")
    return fixed


def _reconcile_stats(root: Path, features: Mapping[str, Any], tables: list[tuple[tuple[int, int], pa.Table]],
                     report: RecoveryReport) -> None:
    path = root / STATS_PATH
    per_episode = [s for _, table in tables for s in _stats_from_table(table, features)]
    if not per_episode:
        if path.exists():
            path.unlink()
            fsync_dir(path.parent)
            report.fixed.append(f"removed {STATS_PATH} of a dataset without episodes")
        return
    expected = aggregate_stats(per_episode)
    try:
        current = json.loads(path.read_text())
        stale = any(
            int(np.asarray(current[key]["count"]).reshape(-1)[0]) != int(stats["count"][0])
            for key, stats in expected.items()
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        stale = True
    if stale:
        atomic_write_bytes(path, json_bytes(stats_to_json(expected)))
        report.fixed.append(f"{STATS_PATH}: recomputed from the episodes metadata")
