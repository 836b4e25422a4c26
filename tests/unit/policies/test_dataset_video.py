"""The v3 reader decodes ``video`` camera features from the concatenated MP4 files (PyAV)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rollout_console.policies.flow.dataset import load_dataset
from rollout_console.policies.flow.demo_data import Episode, write_dataset

KEY = "observation.images.front"


def _episode(length: int, rng: np.random.Generator) -> Episode:
    return Episode(rng.normal(size=(length, 6)).astype(np.float32), rng.normal(size=(length, 6)).astype(np.float32),
                   rng.normal(size=(length, 6)).astype(np.float32))


def _level(episode: int, frame: int) -> int:
    return (40 * episode + 9 * frame) % 250


def test_video_frames_are_matched_by_episode_timestamp(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lengths = [5, 7]
    root = write_dataset(tmp_path / "ds", [_episode(n, rng) for n in lengths], fps=10.0)
    # one MP4 holding both episodes back to back, as the v3 writer concatenates them
    video = root / "videos" / KEY / "chunk-000" / "file-000.mp4"
    video.parent.mkdir(parents=True)
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.options = {"qscale": "2"}
        for episode, length in enumerate(lengths):
            for frame in range(length):
                image = np.full((48, 64, 3), _level(episode, frame), dtype=np.uint8)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    info = json.loads((root / "meta" / "info.json").read_text())
    info["features"][KEY] = {"dtype": "video", "shape": [48, 64, 3], "names": ["height", "width", "channels"]}
    info["video_path"] = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
    (root / "meta" / "info.json").write_text(json.dumps(info))
    meta_path = root / "meta" / "episodes" / "chunk-000" / "file-000.parquet"
    meta = pq.read_table(meta_path)
    meta = meta.append_column(f"videos/{KEY}/chunk_index", pa.array([0, 0], pa.int64()))
    meta = meta.append_column(f"videos/{KEY}/file_index", pa.array([0, 0], pa.int64()))
    meta = meta.append_column(f"videos/{KEY}/from_timestamp", pa.array([0.0, lengths[0] / 10.0]))
    pq.write_table(meta, meta_path)

    data = load_dataset(root, image_key="front", image_size=(24, 32))
    assert data.images is not None and data.images.shape == (sum(lengths), 3, 24, 32)
    expected = [_level(e, f) for e, n in enumerate(lengths) for f in range(n)]
    measured = data.images.reshape(len(data), -1).mean(axis=1)
    np.testing.assert_allclose(measured, expected, atol=4)
