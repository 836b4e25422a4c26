"""Reads a LeRobotDataset v3 from disk (pyarrow only) into arrays for chunked training.

Needed columns: ``observation.state``, ``action``, ``episode_index``, ``frame_index``; optional
``observation.environment_state`` and one camera (``image`` features stored in the parquet, or
``video`` features decoded from the MP4 files with PyAV). A training sample for frame k is the
observation at k and the actions k .. k+H-1 of the same episode, padded by repeating the episode's
last action.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ...features import ACTION, ENV_STATE, IMAGE_PREFIX, STATE

__all__ = ["ChunkDataset", "load_dataset"]


@dataclass
class ChunkDataset:
    state: np.ndarray  # (N, S) float32
    env: np.ndarray  # (N, E) float32
    action: np.ndarray  # (N, M) float32
    episode_index: np.ndarray  # (N,) int64
    episode_end: np.ndarray  # (N,) exclusive end row of each row's episode
    state_names: list[str]
    env_names: list[str]
    action_names: list[str]
    fps: float
    images: np.ndarray | None = None  # (N, 3, h, w) uint8
    image_key: str | None = None

    def __len__(self) -> int:
        return len(self.action)

    @property
    def num_episodes(self) -> int:
        return int(len(np.unique(self.episode_index)))

    def chunk_rows(self, rows: np.ndarray, horizon: int) -> np.ndarray:
        """(B, H) row indices of the action chunk of each row (clamped to the episode's last row)."""
        steps = rows[:, None] + np.arange(horizon)[None, :]
        return np.minimum(steps, self.episode_end[rows, None] - 1)


def _matrix(column: pa.ChunkedArray | pa.Array, name: str) -> np.ndarray:
    """A list / fixed-size-list column of floats as an (N, D) float32 array."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_fixed_size_list(array.type) or pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
        if len(lengths) and (lengths != lengths[0]).any():
            raise ValueError(f"{name}: rows have different lengths")
        values = pc.list_flatten(array).to_numpy(zero_copy_only=False).astype(np.float32)
        return values.reshape(len(array), -1 if len(array) else 0)
    return array.to_numpy(zero_copy_only=False).astype(np.float32).reshape(-1, 1)


def _names(info: dict, key: str, width: int) -> list[str]:
    names = info["features"].get(key, {}).get("names")
    if isinstance(names, dict):  # older layouts: {"motors": [...]}
        names = next(iter(names.values()), None)
    if isinstance(names, list) and len(names) == width and all(isinstance(n, str) for n in names):
        return list(names)
    return [f"{key}.{i}" for i in range(width)]


def load_dataset(root: str | Path, image_key: str | None = None,
                 image_size: tuple[int, int] = (48, 64)) -> ChunkDataset:
    """Load a v3 dataset; ``image_key`` (``observation.images.<cam>`` or ``<cam>``) adds one camera."""
    root = Path(root)
    info_path = root / "meta" / "info.json"
    if not info_path.is_file():
        raise FileNotFoundError(f"{root} is not a LeRobotDataset v3 (no meta/info.json)")
    info = json.loads(info_path.read_text())
    version = str(info.get("codebase_version", ""))
    if not version.startswith("v3"):
        raise ValueError(f"{root}: dataset format {version or 'unknown'} is not v3")
    features = info.get("features", {})
    for key in (STATE, ACTION):
        if key not in features:
            raise ValueError(f"{root}: the dataset has no {key} feature")
    if image_key is not None and not image_key.startswith(IMAGE_PREFIX):
        image_key = IMAGE_PREFIX + image_key
    if image_key is not None and image_key not in features:
        cams = [k for k in features if k.startswith(IMAGE_PREFIX)]
        raise ValueError(f"{root}: no camera {image_key} (available: {', '.join(cams) or 'none'})")
    files = sorted((root / "data").glob("chunk-*/file-*.parquet"))
    if not files:
        raise FileNotFoundError(f"{root}: no data/chunk-*/file-*.parquet files")
    has_env = ENV_STATE in features
    columns = [STATE, ACTION, "episode_index", "frame_index"] + ([ENV_STATE] if has_env else [])
    image_inline = image_key is not None and features[image_key].get("dtype") == "image"
    if image_inline:
        columns.append(image_key)  # type: ignore[arg-type]
    table = pa.concat_tables([pq.read_table(f, columns=columns) for f in files], promote_options="default")
    order = pc.sort_indices(table, sort_keys=[("episode_index", "ascending"), ("frame_index", "ascending")])
    table = table.take(order)
    episode = table["episode_index"].to_numpy().astype(np.int64)
    frame = table["frame_index"].to_numpy().astype(np.int64)
    state = _matrix(table[STATE], STATE)
    action = _matrix(table[ACTION], ACTION)
    env = _matrix(table[ENV_STATE], ENV_STATE) if has_env else np.zeros((len(action), 0), np.float32)
    boundaries = np.flatnonzero(np.diff(episode)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(episode)]))
    episode_end = np.repeat(ends, ends - starts)
    expected = np.concatenate([np.arange(e - s) for s, e in zip(starts, ends, strict=True)]) if len(episode) else frame
    if not np.array_equal(frame - frame[np.repeat(starts, ends - starts)], expected):
        raise ValueError(f"{root}: frame_index is not contiguous within every episode")
    images = None
    if image_key is not None:
        if image_inline:
            images = _decode_inline(table[image_key], image_size)
        else:
            images = _decode_videos(root, info, image_key, episode, frame, image_size)
    fps = float(info.get("fps", 30.0))
    return ChunkDataset(
        state=state, env=env, action=action, episode_index=episode, episode_end=episode_end,
        state_names=_names(info, STATE, state.shape[1]), env_names=_names(info, ENV_STATE, env.shape[1]) if has_env
        else [], action_names=_names(info, ACTION, action.shape[1]), fps=fps, images=images, image_key=image_key,
    )


def _resize_chw(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    height, width = size
    if rgb.shape[:2] != (height, width):
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb.transpose(2, 0, 1))


def _decode_inline(column: pa.ChunkedArray, size: tuple[int, int]) -> np.ndarray:
    out = np.empty((len(column), 3, *size), dtype=np.uint8)
    for i, item in enumerate(column.to_pylist()):
        data = item["bytes"] if isinstance(item, dict) else item
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"image row {i} cannot be decoded")
        out[i] = _resize_chw(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), size)
    return out


def _decode_videos(root: Path, info: dict, key: str, episode: np.ndarray, frame: np.ndarray,
                   size: tuple[int, int]) -> np.ndarray:
    """Decode each episode's frames from the concatenated MP4 files (PyAV), nearest timestamp."""
    import av

    video_path = info.get("video_path") or "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    fps = float(info.get("fps", 30.0))
    meta_files = sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
    if not meta_files:
        raise FileNotFoundError(f"{root}: no meta/episodes files (needed to locate video frames)")
    meta = pa.concat_tables([pq.read_table(f) for f in meta_files], promote_options="default").to_pylist()
    by_episode = {int(row["episode_index"]): row for row in meta}
    decoded: dict[Path, tuple[np.ndarray, np.ndarray]] = {}
    out = np.empty((len(frame), 3, *size), dtype=np.uint8)
    for ep in np.unique(episode):
        row = by_episode.get(int(ep))
        if row is None:
            raise ValueError(f"{root}: episode {ep} has no metadata row")
        path = root / video_path.format(video_key=key, chunk_index=int(row[f"videos/{key}/chunk_index"]),
                                        file_index=int(row[f"videos/{key}/file_index"]))
        if path not in decoded:
            frame_times: list[float] = []
            images: list[np.ndarray] = []
            with av.open(str(path)) as container:
                for video_frame in container.decode(video=0):
                    if video_frame.time is None:
                        raise ValueError(f"{path}: a video frame has no presentation time")
                    frame_times.append(float(video_frame.time))
                    images.append(_resize_chw(video_frame.to_ndarray(format="rgb24"), size))
            decoded[path] = (np.array(frame_times), np.stack(images))
        times, frames = decoded[path]
        rows = np.flatnonzero(episode == ep)
        wanted = float(row[f"videos/{key}/from_timestamp"]) + frame[rows] / fps
        nearest = np.clip(np.searchsorted(times, wanted - 0.5 / fps), 0, len(times) - 1)
        out[rows] = frames[nearest]
    return out
