"""Reads one saved episode back for review in the page: its rows and where its videos are.

Format-level (meta/info.json, meta/episodes, data parquet), so it works on any LeRobot v3 dataset,
including one recorded by another tool.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import RecordingError

__all__ = ["EpisodeReview", "read_episode"]

EpisodeReview = dict[str, Any]


def _episode_row(root: Path, index: int) -> dict[str, Any]:
    for path in sorted((root / "meta" / "episodes").rglob("*.parquet")):
        table = pq.read_table(path)
        rows = table.filter(pc.equal(table["episode_index"], index))
        if rows.num_rows:
            return rows.slice(0, 1).to_pylist()[0]
    raise RecordingError(f"episode {index} is not in the dataset at {root}")


def read_episode(root: Path, index: int, max_points: int = 2000) -> EpisodeReview:
    """Rows (state, action, intervention; decimated to ``max_points``) and video file locations."""
    info = json.loads((root / "meta" / "info.json").read_text())
    row = _episode_row(root, index)
    data_rel = info["data_path"].format(chunk_index=row["data/chunk_index"], file_index=row["data/file_index"])
    table = pq.read_table(root / data_rel)
    table = table.filter(pc.equal(table["episode_index"], index))
    step = max(1, table.num_rows // max_points)
    features = info["features"]

    def column(name: str) -> list[Any] | None:
        if name not in table.column_names:
            return None
        return table.column(name).to_pylist()[::step]

    videos = {}
    for key, feature in features.items():
        if feature.get("dtype") != "video":
            continue
        rel = info["video_path"].format(video_key=key, chunk_index=row[f"videos/{key}/chunk_index"],
                                        file_index=row[f"videos/{key}/file_index"])
        videos[key.removeprefix("observation.images.")] = {
            "path": str(root / rel),
            "from_timestamp": row[f"videos/{key}/from_timestamp"],
            "to_timestamp": row[f"videos/{key}/to_timestamp"],
        }
    return {
        "index": index,
        "fps": info["fps"],
        "length": row["length"],
        "tasks": row.get("tasks"),
        "extra": {k: row[k] for k in ("outcome",) if k in row},
        "timestamp": column("timestamp"),
        "state": {"names": features.get("observation.state", {}).get("names"), "values": column("observation.state")},
        "action": {"names": features.get("action", {}).get("names"), "values": column("action")},
        "intervention": column("intervention"),
        "videos": videos,
    }
