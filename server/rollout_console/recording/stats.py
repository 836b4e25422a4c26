"""Per-episode feature statistics in LeRobot's shapes, and their aggregation over episodes.

Every feature gets ``min, max, mean, std, count, q01, q10, q50, q90, q99``:

* vectors of shape (D,): each statistic has shape (D,) (shape-(1,) features give shape (1,));
* images: per channel, normalised to [0, 1], shape (C, 1, 1), from a strided subsample of every frame
  (about 150 pixels on the long side, as LeRobot samples); quantiles are exact for the sampled pixels
  (uint8 histograms), not approximations;
* ``count`` is always shape (1,): frames for vectors, sampled frames for images.

Values are float64 except ``count`` (int64), so the episodes parquet schema stays the same for every
episode and every feature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from .layout import QUANTILES, STAT_KEYS

__all__ = ["ImageStats", "aggregate_stats", "image_stride", "stats_to_json", "vector_stats"]

Stats = dict[str, np.ndarray]


def vector_stats(values: np.ndarray) -> Stats:
    """Statistics of an (N,) or (N, D) array over its first axis."""
    array = np.asarray(values)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.shape[0] == 0:
        raise ValueError("cannot compute statistics of an empty episode")
    data = array.astype(np.float64)
    stats: Stats = {
        "min": data.min(axis=0),
        "max": data.max(axis=0),
        "mean": data.mean(axis=0),
        "std": data.std(axis=0),
        "count": np.array([array.shape[0]], dtype=np.int64),
    }
    quantiles = np.quantile(data, list(QUANTILES.values()), axis=0)
    for key, row in zip(QUANTILES, quantiles, strict=True):
        stats[key] = np.asarray(row, dtype=np.float64)
    return stats


def image_stride(height: int, width: int, target: int = 150) -> int:
    """Pixel stride that brings the long side of an image down to about ``target`` pixels."""
    return max(1, max(height, width) // target)


class ImageStats:
    """Accumulates per-channel statistics of uint8 HWC frames (exact on the strided subsample)."""

    def __init__(self, channels: int = 3, stride: int = 4) -> None:
        self.channels = channels
        self.stride = max(1, stride)
        self.frames = 0
        self._hist = np.zeros((channels, 256), dtype=np.int64)
        self._sum = np.zeros(channels, dtype=np.float64)
        self._sumsq = np.zeros(channels, dtype=np.float64)

    def update(self, image: np.ndarray) -> None:
        sample = image[:: self.stride, :: self.stride].reshape(-1, self.channels)
        for c in range(self.channels):
            counts = np.bincount(sample[:, c], minlength=256)
            self._hist[c] += counts
        flat = sample.astype(np.float64)
        self._sum += flat.sum(axis=0)
        self._sumsq += np.square(flat).sum(axis=0)
        self.frames += 1

    def result(self) -> Stats:
        if self.frames == 0:
            raise ValueError("no frames were sampled")
        pixels = self._hist[0].sum()
        levels = np.arange(256, dtype=np.float64)
        present = self._hist > 0
        minimum = np.array([levels[p][0] for p in present])
        maximum = np.array([levels[p][-1] for p in present])
        mean = self._sum / pixels
        std = np.sqrt(np.maximum(self._sumsq / pixels - mean**2, 0.0))
        cumulative = np.cumsum(self._hist, axis=1)
        stats: Stats = {
            "min": minimum / 255.0,
            "max": maximum / 255.0,
            "mean": mean / 255.0,
            "std": std / 255.0,
        }
        for key, q in QUANTILES.items():
            target = q * pixels
            stats[key] = np.array([np.searchsorted(cumulative[c], target) for c in range(self.channels)],
                                  dtype=np.float64) / 255.0
        shaped = {k: v.reshape(self.channels, 1, 1).astype(np.float64) for k, v in stats.items()}
        shaped["count"] = np.array([self.frames], dtype=np.int64)
        return shaped


def aggregate_stats(per_episode: Iterable[Mapping[str, Mapping[str, np.ndarray]]]) -> dict[str, Stats]:
    """Combine episode statistics: exact min/max/mean/std (parallel variance), count-weighted quantiles."""
    grouped: dict[str, list[Mapping[str, np.ndarray]]] = {}
    for episode in per_episode:
        for key, stats in episode.items():
            grouped.setdefault(key, []).append(stats)
    result: dict[str, Stats] = {}
    for key, items in grouped.items():
        counts = np.array([float(np.asarray(s["count"]).reshape(-1)[0]) for s in items])
        total = counts.sum()
        means = np.stack([np.asarray(s["mean"], dtype=np.float64) for s in items])
        stds = np.stack([np.asarray(s["std"], dtype=np.float64) for s in items])
        weights = counts.reshape((-1,) + (1,) * (means.ndim - 1))
        mean = (means * weights).sum(axis=0) / total
        variance = ((stds**2 + (means - mean) ** 2) * weights).sum(axis=0) / total
        combined: Stats = {
            "min": np.min(np.stack([np.asarray(s["min"], dtype=np.float64) for s in items]), axis=0),
            "max": np.max(np.stack([np.asarray(s["max"], dtype=np.float64) for s in items]), axis=0),
            "mean": mean,
            "std": np.sqrt(np.maximum(variance, 0.0)),
            "count": np.array([int(total)], dtype=np.int64),
        }
        for q in QUANTILES:
            if all(q in s for s in items):
                values = np.stack([np.asarray(s[q], dtype=np.float64) for s in items])
                combined[q] = (values * weights).sum(axis=0) / total
        result[key] = combined
    return result


def stats_to_json(stats: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, dict[str, list]]:
    """Nested lists for ``meta/stats.json`` (the order of STAT_KEYS, then anything else)."""
    out: dict[str, dict[str, list]] = {}
    for key, feature_stats in stats.items():
        ordered = [k for k in STAT_KEYS if k in feature_stats] + [k for k in feature_stats if k not in STAT_KEYS]
        out[key] = {k: np.asarray(feature_stats[k]).tolist() for k in ordered}
    return out
