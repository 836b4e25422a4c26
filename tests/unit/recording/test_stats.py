"""Statistics: LeRobot's shapes, exact values against numpy, aggregation equal to whole-data stats."""

from __future__ import annotations

import numpy as np
import pytest
from rollout_console.features import FeatureLayout
from rollout_console.recording.layout import dataset_features, frame_arrow_schema, next_chunk_file
from rollout_console.recording.stats import (
    ImageStats,
    aggregate_stats,
    image_stride,
    stats_to_json,
    vector_stats,
)


def test_vector_stats_match_numpy() -> None:
    data = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    stats = vector_stats(data)
    assert sorted(stats) == sorted(["min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"])
    assert stats["count"].tolist() == [200] and stats["count"].dtype == np.int64
    assert np.allclose(stats["mean"], data.astype(np.float64).mean(0))
    assert np.allclose(stats["std"], data.astype(np.float64).std(0))
    assert np.allclose(stats["q90"], np.quantile(data.astype(np.float64), 0.9, axis=0))
    assert all(v.shape == (4,) for k, v in stats.items() if k != "count")
    scalar = vector_stats(np.array([True, False, False, True]))
    assert scalar["mean"].tolist() == [0.5] and scalar["min"].shape == (1,)
    with pytest.raises(ValueError):
        vector_stats(np.zeros((0, 3)))


def test_image_stats_are_per_channel_normalised_and_exact_on_the_sample() -> None:
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8) for _ in range(5)]
    acc = ImageStats(3, stride=2)
    for f in frames:
        acc.update(f)
    stats = acc.result()
    sample = np.concatenate([f[::2, ::2].reshape(-1, 3) for f in frames]).astype(np.float64)
    assert stats["count"].tolist() == [5]
    assert all(v.shape == (3, 1, 1) for k, v in stats.items() if k != "count")
    assert np.allclose(stats["mean"].ravel(), sample.mean(0) / 255)
    assert np.allclose(stats["std"].ravel(), sample.std(0) / 255)
    assert np.allclose(stats["min"].ravel(), sample.min(0) / 255)
    assert np.allclose(stats["q50"].ravel(), np.quantile(sample, 0.5, axis=0, method="inverted_cdf") / 255)
    assert np.allclose(stats["q99"].ravel(), np.quantile(sample, 0.99, axis=0, method="inverted_cdf") / 255)
    assert image_stride(480, 640) == 4 and image_stride(48, 64) == 1


def test_aggregate_equals_stats_of_the_concatenation() -> None:
    rng = np.random.default_rng(2)
    parts = [rng.normal(loc=i, size=(n, 3)) for i, n in enumerate((10, 40, 7))]
    merged = aggregate_stats([{"x": vector_stats(p)} for p in parts])["x"]
    whole = np.concatenate(parts)
    assert merged["count"].tolist() == [57]
    assert np.allclose(merged["mean"], whole.mean(0))
    assert np.allclose(merged["std"], whole.std(0))
    assert np.allclose(merged["min"], whole.min(0)) and np.allclose(merged["max"], whole.max(0))
    as_json = stats_to_json({"x": merged})
    assert list(as_json["x"])[:5] == ["min", "max", "mean", "std", "count"]


def test_feature_dict_and_parquet_schema_follow_lerobot() -> None:
    layout = FeatureLayout(("a.pos",), (), {"cam": (4, 6, 3)}, ("a.pos",))
    features = dataset_features(layout, video=True, intervention=True)
    # a 1-joint robot: shape (1,) vectors are scalar columns, as LeRobot's reader expects
    schema = frame_arrow_schema(features)
    assert str(schema.field("observation.state").type) == "float"
    assert str(schema.field("intervention").type) == "bool"
    assert "observation.images.cam" not in schema.names
    images = frame_arrow_schema(dataset_features(layout, video=False, intervention=False))
    assert str(images.field("observation.images.cam").type) == "struct<bytes: binary, path: string>"
    assert next_chunk_file(0, 998) == (0, 999) and next_chunk_file(0, 999) == (1, 0)
