"""DiskSpace: free space and dataset size, sampled on a thread of its own.

The control thread must never touch the file system, yet it has to refuse an episode that will not fit
and warn before the disk fills. This watcher samples ``statvfs`` (every ``interval_s``) and the
dataset's size on disk (every few samples: a walk of the directory) and publishes both as plain
attributes the loop reads in O(1). It also raises and clears the low-space warning.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["DiskSpace", "episode_bytes_needed"]

log = logging.getLogger(__name__)

MARGIN_FRACTION = 0.25
"""Extra room asked for above the expected size of an episode (parquet, metadata, encoder variance)."""
MARGIN_BYTES = 1 << 20
DEFAULT_EPISODE_S = 60.0
"""The length assumed for an episode that has no maximum (e.g. a DAgger correction)."""
_PRIOR_BITS_PER_PIXEL = {True: 0.5, False: 12.0}
"""Before anything was measured on this dataset: a generous guess for video, and for PNG frames."""

Warn = Callable[[str, dict], None]


def episode_bytes_needed(bytes_per_s: float, max_episode_s: float | None, max_episode_bytes: int | None = None) -> int:
    """Free bytes an episode needs: the measured rate times its maximum length (or 60 s), plus a margin.

    An episode rotated by size (sentry without ``episode_time_s``) never grows past ``max_episode_bytes``,
    whatever its length in seconds, so that bounds the estimate too.
    """
    seconds = max_episode_s if max_episode_s and max_episode_s > 0 else DEFAULT_EPISODE_S
    expected = bytes_per_s * seconds
    if max_episode_bytes:
        expected = min(expected, float(max_episode_bytes))
    return int(expected * (1.0 + MARGIN_FRACTION)) + MARGIN_BYTES


class DiskSpace:
    """Samples free space and the dataset's size (see the module docstring)."""

    def __init__(self, root: Path, *, min_free_bytes: int, prior_bytes_per_s: float,
                 on_event: Warn | None = None, interval_s: float = 1.0, walk_every: int = 5) -> None:
        self.root = root
        self.min_free_bytes = min_free_bytes
        self.prior_bytes_per_s = prior_bytes_per_s
        self.free_bytes: int | None = None
        self.dataset_bytes = 0
        self.low = False
        self._on_event = on_event
        self._interval_s = interval_s
        self._walk_every = max(1, walk_every)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recorder-disk", daemon=True)

    @staticmethod
    def prior_rate(camera_pixels: list[int], fps: float, video: bool) -> float:
        """Bytes per second expected before the dataset has any episode to measure."""
        return sum(camera_pixels) * fps * _PRIOR_BITS_PER_PIXEL[video] / 8.0 + 4096.0

    def start(self) -> DiskSpace:
        self.sample(walk=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def bytes_per_s(self, recorded_s: float) -> float:
        """The dataset's measured bytes per recorded second (the prior until a second is recorded)."""
        if recorded_s >= 1.0 and self.dataset_bytes > 0:
            return self.dataset_bytes / recorded_s
        return self.prior_bytes_per_s

    def refusal(self, recorded_s: float, max_episode_s: float | None,
                max_episode_bytes: int | None = None) -> str | None:
        """Why an episode must not start now (it would not fit), or None. O(1): reads the last sample."""
        free = self.free_bytes
        if free is None:
            return None
        needed = episode_bytes_needed(self.bytes_per_s(recorded_s), max_episode_s, max_episode_bytes)
        if needed <= free:
            return None
        return (f"not enough disk space for the next episode: {_mb(free)} free on {self.root}, about "
                f"{_mb(needed)} needed")

    def status(self) -> dict:
        return {"free_bytes": self.free_bytes, "min_free_bytes": self.min_free_bytes, "low": self.low,
                "dataset_bytes": self.dataset_bytes}

    # ------------------------------------------------------------------ the watcher thread

    def _run(self) -> None:
        count = 0
        while not self._stop.wait(self._interval_s):
            count += 1
            try:
                self.sample(walk=count % self._walk_every == 0)
            except Exception:  # the watcher must outlive a vanished directory or a flaky mount
                log.exception("disk space: sampling failed")

    def sample(self, walk: bool) -> None:
        target = self.root if self.root.exists() else self.root.parent
        try:
            self.free_bytes = shutil.disk_usage(target).free
        except OSError:
            self.free_bytes = None
            return
        if walk:
            self.dataset_bytes = _tree_bytes(self.root)
        low = self.free_bytes < self.min_free_bytes
        if low != self.low:
            self.low = low
            if self._on_event is not None:
                if low:
                    self._on_event("disk_low", {
                        "level": "warning", "free_bytes": self.free_bytes, "min_free_bytes": self.min_free_bytes,
                        "message": f"the dataset's disk is nearly full: {_mb(self.free_bytes)} free on "
                        f"{self.root} (warning below {_mb(self.min_free_bytes)}); free some space or move "
                        "--dataset.root to a bigger disk",
                    })
                else:
                    self._on_event("disk_ok", {"free_bytes": self.free_bytes,
                                               "message": f"disk space is back above {_mb(self.min_free_bytes)}"})


def _tree_bytes(root: Path) -> int:
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            try:
                total += os.stat(os.path.join(directory, name)).st_size
            except OSError:
                continue  # a file renamed or removed by the saver meanwhile
    return total


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n < 10 * 2**30 else f"{n / 2**30:.1f} GB"
