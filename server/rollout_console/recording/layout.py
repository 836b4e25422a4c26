"""LeRobotDataset v3 on-disk layout: paths, feature dictionaries and their Arrow types.

The layout is the one LeRobot's reader expects (``codebase_version`` ``v3.0``):

    meta/info.json                                   features, totals, path templates
    meta/stats.json                                  aggregate statistics
    meta/tasks.parquet                               task string (pandas index) -> task_index
    meta/episodes/chunk-CCC/file-FFF.parquet         one row per episode (offsets, stats, extras)
    data/chunk-CCC/file-FFF.parquet                  one row per frame
    videos/<video_key>/chunk-CCC/file-FFF.mp4        one stream per camera

This writer gives every episode its own data file and its own video file per camera (the format allows
it: each episode row names its files), so a saved file is never opened again. Private working state
(staging files, upload state) lives under ``.cache/huggingface/rollout-console/`` inside the root, a
directory that Hugging Face upload tools skip by default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..features import ACTION, ENV_STATE, IMAGE_PREFIX, STATE, FeatureLayout

__all__ = [
    "CHUNKS_SIZE",
    "CODEBASE_VERSION",
    "DATA_FILES_SIZE_IN_MB",
    "DATA_PATH",
    "DEFAULT_FEATURES",
    "EPISODES_PATH",
    "INFO_PATH",
    "INTERVENTION",
    "SPARE_DIR",
    "STATE_DIR",
    "STATS_PATH",
    "STAT_KEYS",
    "TASKS_PATH",
    "VIDEO_FILES_SIZE_IN_MB",
    "VIDEO_PATH",
    "camera_keys",
    "data_relpath",
    "dataset_features",
    "episodes_relpath",
    "feature_arrow_type",
    "frame_arrow_schema",
    "next_chunk_file",
    "video_keys",
    "video_relpath",
]

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000
DATA_FILES_SIZE_IN_MB = 100
VIDEO_FILES_SIZE_IN_MB = 200

INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
STATE_DIR = ".cache/huggingface/rollout-console"
"""Private working state inside the dataset root (ignored by huggingface_hub's upload_folder)."""
SPARE_DIR = "spare"
"""Sub-directory of ``STATE_DIR/staging`` holding pre-opened encoders' files (no episode data)."""

INTERVENTION = "intervention"
STAT_KEYS = ("min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99")
QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}

DEFAULT_FEATURES: dict[str, dict[str, Any]] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}

_CHUNK_FILE = re.compile(r"^chunk-(\d{3,})/file-(\d{3,})\.(parquet|mp4)$")


def dataset_features(layout: FeatureLayout, video: bool, intervention: bool) -> dict[str, dict[str, Any]]:
    """The LeRobot feature dictionary for a robot's layout (shapes as lists, as in ``info.json``).

    Cameras are ``video`` features when ``video`` is true, else ``image`` features (PNG in the parquet);
    ``intervention`` adds the DAgger column (bool, shape (1,)). The per-frame bookkeeping columns
    (timestamp, frame_index, episode_index, index, task_index) come last, as LeRobot orders them.
    """
    features: dict[str, dict[str, Any]] = {
        STATE: {"dtype": "float32", "shape": [len(layout.state_names)], "names": list(layout.state_names)},
    }
    if layout.env_names:
        features[ENV_STATE] = {"dtype": "float32", "shape": [len(layout.env_names)],
                               "names": list(layout.env_names)}
    for name, shape in layout.camera_shapes.items():
        height, width, channels = (int(v) for v in shape)
        features[IMAGE_PREFIX + name] = {
            "dtype": "video" if video else "image",
            "shape": [height, width, channels],
            "names": ["height", "width", "channels"],
        }
    features[ACTION] = {"dtype": "float32", "shape": [len(layout.action_names)], "names": list(layout.action_names)}
    if intervention:
        features[INTERVENTION] = {"dtype": "bool", "shape": [1], "names": None}
    for key, spec in DEFAULT_FEATURES.items():
        features[key] = {"dtype": spec["dtype"], "shape": list(spec["shape"]), "names": None}
    for key in features:
        if "/" in key:
            raise ValueError(f"feature names must not contain '/': {key!r}")
    return features


def camera_keys(features: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [k for k, ft in features.items() if ft["dtype"] in ("video", "image")]


def video_keys(features: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [k for k, ft in features.items() if ft["dtype"] == "video"]


_ARROW_SCALARS = {
    "float32": pa.float32(),
    "float64": pa.float64(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "int16": pa.int16(),
    "int8": pa.int8(),
    "uint8": pa.uint8(),
    "bool": pa.bool_(),
    "string": pa.string(),
}
IMAGE_ARROW_TYPE = pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])


def feature_arrow_type(feature: Mapping[str, Any]) -> pa.DataType:
    """The Arrow type LeRobot's reader (``datasets``) expects for a feature's column.

    Shape (1,) features are plain scalar columns; vectors are fixed-size lists (``Sequence(length=n)``);
    images are the ``datasets.Image`` struct of PNG bytes and an optional path.
    """
    dtype = feature["dtype"]
    if dtype == "image":
        return IMAGE_ARROW_TYPE
    if dtype not in _ARROW_SCALARS:
        raise ValueError(f"unsupported feature dtype {dtype!r}")
    scalar = _ARROW_SCALARS[dtype]
    shape = list(feature["shape"])
    if shape == [1]:
        return scalar
    if len(shape) == 1:
        return pa.list_(scalar, shape[0])
    raise ValueError(f"unsupported feature shape {shape} (only vectors and scalars are recorded)")


def frame_arrow_schema(features: Mapping[str, Mapping[str, Any]]) -> pa.Schema:
    """Schema of a data parquet file: every non-video feature, in feature order."""
    return pa.schema([pa.field(k, feature_arrow_type(ft)) for k, ft in features.items() if ft["dtype"] != "video"])


def next_chunk_file(chunk_index: int, file_index: int, chunks_size: int = CHUNKS_SIZE) -> tuple[int, int]:
    """The file after (chunk, file): files advance inside a chunk, then the chunk advances."""
    if file_index >= chunks_size - 1:
        return chunk_index + 1, 0
    return chunk_index, file_index + 1


def data_relpath(chunk_index: int, file_index: int) -> str:
    return DATA_PATH.format(chunk_index=chunk_index, file_index=file_index)


def video_relpath(video_key: str, chunk_index: int, file_index: int) -> str:
    return VIDEO_PATH.format(video_key=video_key, chunk_index=chunk_index, file_index=file_index)


def episodes_relpath(chunk_index: int, file_index: int) -> str:
    return EPISODES_PATH.format(chunk_index=chunk_index, file_index=file_index)


def parse_chunk_file(relative: str) -> tuple[int, int] | None:
    """``chunk-003/file-012.parquet`` -> (3, 12); None for names outside the pattern."""
    match = _CHUNK_FILE.match(relative)
    return (int(match.group(1)), int(match.group(2))) if match else None


def relpath(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()
