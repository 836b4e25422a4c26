"""Writes results.json and results.csv off the control thread, atomically (a reader never sees half)."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any

__all__ = ["CSV_COLUMNS", "ResultsWriter", "episodes_csv"]

log = logging.getLogger(__name__)

CSV_COLUMNS = ("episode", "policy", "outcome", "outcome_source", "detector", "time_to_success_s", "duration_s",
               "interventions", "excluded", "exclude_reason", "reruns", "scene_seed", "dataset_episode", "ended_at")


def episodes_csv(episodes: list[dict[str, Any]]) -> str:
    """One row per episode (the policy is always shown: files are written for after the session)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for episode in episodes:
        writer.writerow({key: "" if episode.get(key) is None else episode.get(key) for key in CSV_COLUMNS})
    return out.getvalue()


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class ResultsWriter:
    """A daemon thread that keeps the newest report on disk; ``submit`` never blocks the caller."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.last_error: str | None = None
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="evaluation-writer", daemon=True)
        self._thread.start()

    @property
    def json_path(self) -> Path:
        return self.directory / "results.json"

    @property
    def csv_path(self) -> Path:
        return self.directory / "results.csv"

    def submit(self, report: dict[str, Any]) -> None:
        self._queue.put(report)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then end the thread."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            report = self._queue.get()
            if report is None:
                return
            while True:  # only the newest queued report matters
                try:
                    newer = self._queue.get_nowait()
                except queue.Empty:
                    break
                if newer is None:
                    self._write(report)
                    return
                report = newer
            self._write(report)

    def _write(self, report: dict[str, Any]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.json_path, json.dumps(report, indent=2) + "\n")
            _atomic_write(self.csv_path, episodes_csv(report.get("episodes", [])))
            self.last_error = None
        except OSError as exc:
            self.last_error = f"cannot write results to {self.directory}: {exc}"
            log.error(self.last_error)
