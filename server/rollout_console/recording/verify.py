"""verify_dataset(root): decode and cross-check everything a LeRobot v3 reader relies on.

Independent of the writer's in-memory state: it reads only what is on disk, so crash tests, CI and
operators can run it on any dataset (including one written by LeRobot itself). Nothing is modified.

Checked: info.json (version, templates, totals, splits, features), tasks.parquet (pandas index layout,
contiguous indices), every episodes metadata file (uniform schema, contiguous episode and frame
indices, per-episode stats shapes and ranges), every data parquet file (no unreferenced file, since the
reader loads them all; column types; per-row episode_index, frame_index, global index, task_index and
``timestamp == frame_index / fps``), every video (decoded frame count equals the episode's rows, frame
size, presentation times ``from_timestamp + i / fps``), image features (PNG decode) and stats.json
(counts equal the sum over episodes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .fsio import is_temp_name
from .layout import (
    CODEBASE_VERSION,
    DATA_PATH,
    DEFAULT_FEATURES,
    INFO_PATH,
    SPARE_DIR,
    STAT_KEYS,
    STATE_DIR,
    STATS_PATH,
    TASKS_PATH,
    VIDEO_PATH,
    feature_arrow_type,
    video_keys,
)
from .metadata import read_tasks
from .video import count_video_frames

__all__ = ["VerifyReport", "verify_dataset"]

TIMESTAMP_TOLERANCE_S = 1e-4
"""LeRobot's default ``tolerance_s`` when it matches decoded frames to timestamps."""


@dataclass
class VerifyReport:
    """Outcome of ``verify_dataset``: ``ok`` is True when ``errors`` is empty."""

    root: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    episodes: int = 0
    frames: int = 0
    videos_checked: int = 0
    decoded_frames: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, message: str) -> None:
        if len(self.errors) < 200:
            self.errors.append(message)

    def summary(self) -> str:
        state = "OK" if self.ok else f"{len(self.errors)} error(s)"
        text = f"{self.root}: {state}; {self.episodes} episodes, {self.frames} frames, {self.videos_checked} videos"
        if self.errors:
            text += "\n  " + "\n  ".join(self.errors[:20])
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"root": self.root, "ok": self.ok, "errors": list(self.errors), "warnings": list(self.warnings),
                "episodes": self.episodes, "frames": self.frames, "videos_checked": self.videos_checked,
                "decoded_frames": self.decoded_frames}


def verify_dataset(root: str | Path, decode_videos: bool = True) -> VerifyReport:
    """Check a dataset directory; never raises for dataset problems (they are in the report)."""
    root = Path(root)
    report = VerifyReport(str(root))
    try:
        _verify(root, report, decode_videos)
    except Exception as exc:  # a check that crashed is itself a finding
        report.error(f"verification stopped: {type(exc).__name__}: {exc}")
    return report


def _verify(root: Path, report: VerifyReport, decode_videos: bool) -> None:
    info = _check_info(root, report)
    if info is None:
        return
    _check_leftovers(root, report)
    features: dict[str, Any] = info["features"]
    fps = float(info["fps"])
    records, stats_rows = _check_episodes(root, info, report)
    if records is None:
        return
    report.episodes = len(records)
    report.frames = int(records[-1]["dataset_to_index"]) if records else 0
    tasks = _check_tasks(root, info, records, report)
    _check_totals(info, records, tasks, report)
    _check_data(root, features, fps, records, tasks, report)
    if decode_videos:
        _check_videos(root, features, fps, records, report)
    _check_stats(root, features, stats_rows, report)


# ---------------------------------------------------------------------- pieces


def _check_info(root: Path, report: VerifyReport) -> dict[str, Any] | None:
    path = root / INFO_PATH
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        report.error(f"{INFO_PATH}: unreadable ({exc})")
        return None
    for key in ("codebase_version", "fps", "features", "total_episodes", "total_frames", "total_tasks",
                "chunks_size", "data_path", "video_path", "splits"):
        if key not in info:
            report.error(f"{INFO_PATH}: missing {key!r}")
    if info.get("codebase_version") != CODEBASE_VERSION:
        report.error(f"{INFO_PATH}: codebase_version {info.get('codebase_version')!r}, expected {CODEBASE_VERSION}")
    if info.get("data_path") != DATA_PATH:
        report.error(f"{INFO_PATH}: data_path {info.get('data_path')!r}")
    features = info.get("features") or {}
    if video_keys(features) and info.get("video_path") != VIDEO_PATH:
        report.error(f"{INFO_PATH}: video_path {info.get('video_path')!r} with video features")
    for key, spec in DEFAULT_FEATURES.items():
        if key not in features or features[key].get("dtype") != spec["dtype"]:
            report.error(f"{INFO_PATH}: feature {key!r} missing or not {spec['dtype']}")
    for key, feature in features.items():
        if "/" in key:
            report.error(f"{INFO_PATH}: feature name {key!r} contains '/'")
        if feature.get("dtype") == "video" and info.get("total_episodes", 0) > 0:
            block = feature.get("info") or {}
            for name in ("video.height", "video.width", "video.codec", "video.pix_fmt", "video.fps"):
                if name not in block:
                    report.error(f"{INFO_PATH}: {key} info lacks {name}")
            if block and (block.get("video.height"), block.get("video.width")) != tuple(feature["shape"][:2]):
                report.error(f"{INFO_PATH}: {key} info size differs from its shape")
    return info if "features" in info and "fps" in info else None


def _check_leftovers(root: Path, report: VerifyReport) -> None:
    staging = root / STATE_DIR / "staging"
    if staging.exists() and any(p.name != SPARE_DIR for p in staging.iterdir()):  # spares hold no data
        report.warnings.append("staging area holds an interrupted episode (recovery drops it on the next open)")
    for top in ("meta", "data", "videos"):
        base = root / top
        if base.exists():
            for path in base.rglob("*"):
                if path.is_file() and is_temp_name(path.name):
                    report.warnings.append(f"temporary file {path.relative_to(root)}")


def _check_episodes(root: Path, info: Mapping[str, Any], report: VerifyReport):
    base = root / "meta" / "episodes"
    paths = sorted(base.glob("*/*.parquet")) if base.exists() else []
    if not paths:
        if info.get("total_episodes", 0):
            report.error("meta/episodes: no episodes files but info.json counts episodes")
        return [], []
    tables = []
    for path in paths:
        try:
            tables.append(pq.read_table(path))
        except (OSError, pa.ArrowException) as exc:
            report.error(f"{path.relative_to(root)}: unreadable ({exc})")
            return None, None
    schemas = {t.schema.remove_metadata().to_string() for t in tables}
    if len(schemas) > 1:
        report.error("meta/episodes: files have different schemas (the reader concatenates them)")
    table = pa.concat_tables(tables, promote_options="permissive") if len(schemas) > 1 else pa.concat_tables(tables)
    features = info["features"]
    needed = ["episode_index", "tasks", "length", "data/chunk_index", "data/file_index", "dataset_from_index",
              "dataset_to_index", "meta/episodes/chunk_index", "meta/episodes/file_index"]
    for key in video_keys(features):
        needed += [f"videos/{key}/{n}" for n in ("chunk_index", "file_index", "from_timestamp", "to_timestamp")]
    missing = [n for n in needed if n not in table.column_names]
    if missing:
        report.error(f"meta/episodes: missing columns {missing}")
        return None, None
    records = table.select([n for n in table.column_names if not n.startswith("stats/")]).to_pylist()
    stats_rows = table.select([n for n in table.column_names if n.startswith("stats/")]).to_pylist()
    expected_from = 0
    for position, record in enumerate(records):
        if record["episode_index"] != position:
            report.error(f"meta/episodes: row {position} has episode_index {record['episode_index']}")
        length = record["length"]
        if not length or length <= 0:
            report.error(f"episode {position}: length {length}")
            continue
        if record["dataset_from_index"] != expected_from or record["dataset_to_index"] != expected_from + length:
            report.error(f"episode {position}: dataset_from/to_index {record['dataset_from_index']}.."
                         f"{record['dataset_to_index']}, expected {expected_from}..{expected_from + length}")
        expected_from += length
        if not record["tasks"]:
            report.error(f"episode {position}: no task")
        for key in video_keys(features):
            span = record[f"videos/{key}/to_timestamp"] - record[f"videos/{key}/from_timestamp"]
            if abs(span - length / float(info["fps"])) > TIMESTAMP_TOLERANCE_S:
                report.error(f"episode {position}: {key} spans {span:.6f} s for {length} frames")
    return records, stats_rows


def _check_tasks(root: Path, info: Mapping[str, Any], records: list[dict[str, Any]], report: VerifyReport) -> list[str]:
    path = root / TASKS_PATH
    if not path.exists():
        if records:
            report.error(f"{TASKS_PATH}: missing")
        return []
    try:
        tasks = read_tasks(path)
        metadata = pq.read_schema(path).metadata or {}
        pandas_meta = json.loads(metadata.get(b"pandas", b"{}"))
        if pandas_meta.get("index_columns") != ["task"]:
            report.error(f"{TASKS_PATH}: not indexed by 'task' for pandas (index_columns "
                         f"{pandas_meta.get('index_columns')})")
    except Exception as exc:
        report.error(f"{TASKS_PATH}: {exc}")
        return []
    for record in records:
        for task in record["tasks"] or []:
            if task not in tasks:
                report.error(f"episode {record['episode_index']}: task {task!r} not in {TASKS_PATH}")
    return tasks


def _check_totals(info: Mapping[str, Any], records: list[dict[str, Any]], tasks: list[str],
                  report: VerifyReport) -> None:
    count = len(records)
    frames = int(records[-1]["dataset_to_index"]) if records else 0
    if info.get("total_episodes") != count:
        report.error(f"{INFO_PATH}: total_episodes {info.get('total_episodes')} but {count} episodes")
    if info.get("total_frames") != frames:
        report.error(f"{INFO_PATH}: total_frames {info.get('total_frames')} but {frames} frames")
    if info.get("total_tasks") != len(tasks):
        report.error(f"{INFO_PATH}: total_tasks {info.get('total_tasks')} but {len(tasks)} tasks")
    if count and info.get("splits") != {"train": f"0:{count}"}:
        report.error(f"{INFO_PATH}: splits {info.get('splits')}")


def _check_data(root: Path, features: Mapping[str, Any], fps: float, records: list[dict[str, Any]],
                tasks: list[str], report: VerifyReport) -> None:
    by_file: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        relative = DATA_PATH.format(chunk_index=record["data/chunk_index"], file_index=record["data/file_index"])
        by_file.setdefault(relative, []).append(record)
    data_dir = root / "data"
    on_disk = {p.relative_to(root).as_posix() for p in data_dir.glob("*/*.parquet")} if data_dir.exists() else set()
    for extra in sorted(on_disk - set(by_file)):
        report.error(f"{extra}: not referenced by any episode (the reader would load its rows)")
    columns = [k for k, ft in features.items() if ft["dtype"] != "video"]
    for relative, users in sorted(by_file.items()):
        path = root / relative
        if not path.exists():
            report.error(f"{relative}: missing (episodes {[u['episode_index'] for u in users]})")
            continue
        try:
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            report.error(f"{relative}: unreadable ({exc})")
            continue
        for key in columns:
            if key not in table.column_names:
                report.error(f"{relative}: column {key!r} missing")
                continue
            expected = feature_arrow_type(features[key])
            actual = table.schema.field(key).type
            if actual != expected and not (isinstance(expected, pa.StructType) and isinstance(actual, pa.StructType)):
                report.error(f"{relative}: column {key!r} is {actual}, expected {expected}")
        if any(k not in table.column_names for k in DEFAULT_FEATURES):
            continue
        episode_col = table.column("episode_index").to_numpy()
        frame_col = table.column("frame_index").to_numpy()
        index_col = table.column("index").to_numpy()
        time_col = table.column("timestamp").to_numpy()
        task_col = table.column("task_index").to_numpy()
        expected_rows = sum(int(u["length"]) for u in users)
        if table.num_rows != expected_rows:
            report.error(f"{relative}: {table.num_rows} rows, its episodes account for {expected_rows}")
        for record in users:
            episode = record["episode_index"]
            rows = np.nonzero(episode_col == episode)[0]
            length = int(record["length"])
            if len(rows) != length:
                report.error(f"episode {episode}: {len(rows)} rows in {relative}, length says {length}")
                continue
            frames = frame_col[rows]
            if not np.array_equal(frames, np.arange(length)):
                report.error(f"episode {episode}: frame_index is not 0..{length - 1}")
            if not np.array_equal(index_col[rows], np.arange(record["dataset_from_index"],
                                                              record["dataset_to_index"])):
                report.error(f"episode {episode}: global index does not match dataset_from/to_index")
            if not np.array_equal(time_col[rows], (np.arange(length) / fps).astype(np.float32)):
                report.error(f"episode {episode}: timestamp is not frame_index / fps")
            wanted = [tasks.index(t) for t in record["tasks"] if t in tasks]
            if wanted and not np.all(task_col[rows] == wanted[0]):
                report.error(f"episode {episode}: task_index does not match its task")
            for key, feature in features.items():
                if feature["dtype"] == "image" and key in table.column_names:
                    _check_png_column(table.column(key), rows, feature, episode, key, report)


def _check_png_column(column: pa.ChunkedArray, rows: np.ndarray, feature: Mapping[str, Any], episode: int,
                      key: str, report: VerifyReport) -> None:
    values = column.take(pa.array(rows)).to_pylist()
    for i, value in enumerate(values):
        data = (value or {}).get("bytes")
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if image is None or list(image.shape) != list(feature["shape"]):
            report.error(f"episode {episode}: {key} frame {i} is not a {feature['shape']} PNG")
            return


def _check_videos(root: Path, features: Mapping[str, Any], fps: float, records: list[dict[str, Any]],
                  report: VerifyReport) -> None:
    for key in video_keys(features):
        by_file: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            relative = VIDEO_PATH.format(video_key=key, chunk_index=record[f"videos/{key}/chunk_index"],
                                         file_index=record[f"videos/{key}/file_index"])
            by_file.setdefault(relative, []).append(record)
        height, width = (int(v) for v in features[key]["shape"][:2])
        for relative, users in sorted(by_file.items()):
            path = root / relative
            if not path.exists():
                report.error(f"{relative}: missing")
                continue
            try:
                count, times, size = count_video_frames(path)
            except Exception as exc:
                report.error(f"{relative}: cannot be decoded ({exc})")
                continue
            report.videos_checked += 1
            report.decoded_frames += count
            if count and size != (height, width):
                report.error(f"{relative}: frames are {size[1]}x{size[0]}, feature says {width}x{height}")
            stamps = np.array(times)
            for record in users:
                start = float(record[f"videos/{key}/from_timestamp"])
                end = float(record[f"videos/{key}/to_timestamp"])
                length = int(record["length"])
                inside = stamps[(stamps >= start - TIMESTAMP_TOLERANCE_S) & (stamps < end - TIMESTAMP_TOLERANCE_S)]
                if len(inside) != length:
                    report.error(f"episode {record['episode_index']}: {key} decodes to {len(inside)} frames, "
                                 f"the parquet has {length} rows")
                    continue
                expected = start + np.arange(length) / fps
                worst = float(np.max(np.abs(np.sort(inside) - expected))) if length else 0.0
                if worst > TIMESTAMP_TOLERANCE_S:
                    report.error(f"episode {record['episode_index']}: {key} frame times are off by up to "
                                 f"{worst * 1000:.3f} ms")


def _check_stats(root: Path, features: Mapping[str, Any], stats_rows: list[dict[str, Any]],
                 report: VerifyReport) -> None:
    totals: dict[str, int] = {}
    for position, row in enumerate(stats_rows):
        for key, feature in features.items():
            values = {s: row.get(f"stats/{key}/{s}") for s in STAT_KEYS}
            missing = [s for s, v in values.items() if v is None]
            if set(missing) & {"min", "max", "mean", "std", "count"}:
                report.error(f"episode {position}: stats for {key} lack {missing}")
                continue
            if missing:  # quantiles are optional (older LeRobot versions did not compute them)
                note = f"stats for {key} lack {missing} in some episodes"
                if note not in report.warnings:
                    report.warnings.append(note)
                values = {s: v for s, v in values.items() if v is not None}
            count = np.asarray(values["count"])
            if count.shape != (1,):
                report.error(f"episode {position}: stats/{key}/count has shape {count.shape}")
                continue
            totals[key] = totals.get(key, 0) + int(count[0])
            arrays = {s: np.asarray(v, dtype=np.float64) for s, v in values.items() if s != "count"}
            shape: tuple[int, ...]
            if feature["dtype"] in ("video", "image"):
                shape = (int(feature["shape"][2]), 1, 1)
            else:
                shape = tuple(int(v) for v in feature["shape"])
            for stat, array in arrays.items():
                if array.shape != shape:
                    report.error(f"episode {position}: stats/{key}/{stat} has shape {array.shape}, expected {shape}")
                    break
            else:
                if np.any(arrays["min"] > arrays["mean"] + 1e-9) or np.any(arrays["mean"] > arrays["max"] + 1e-9):
                    report.error(f"episode {position}: stats/{key}: mean outside [min, max]")
                if feature["dtype"] in ("video", "image") and (arrays["min"].min() < 0 or arrays["max"].max() > 1):
                    report.error(f"episode {position}: stats/{key} not normalised to [0, 1]")
    if not stats_rows:
        return
    path = root / STATS_PATH
    try:
        stats = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        report.error(f"{STATS_PATH}: unreadable ({exc})")
        return
    for key, total in totals.items():
        entry = stats.get(key)
        if entry is None:
            report.error(f"{STATS_PATH}: no entry for {key}")
            continue
        if int(np.asarray(entry.get("count", [-1])).reshape(-1)[0]) != total:
            report.error(f"{STATS_PATH}: {key} count {entry.get('count')} but episodes sum to {total}")
