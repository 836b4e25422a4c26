"""The session history: one small JSON file under ``--server.data_dir``, kept across server restarts.

Written atomically (temporary file, fsync, rename) after every change, so a crash leaves the previous
version or the new one, never half a file. A file that cannot be read is set aside (renamed ``.bad``)
and the history starts empty; a directory that cannot be written keeps the history in memory and logs why.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["HISTORY_FILE", "SessionHistory"]

log = logging.getLogger(__name__)

HISTORY_FILE = Path(".rollout-console") / "sessions.json"
_KEEP = 500  # records kept in the file (oldest dropped first)


class SessionHistory:
    """Session records (plain dicts with the fields of ``protocol.sessions.SessionRecord``), oldest first."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._records: list[dict[str, Any]] = self._load()
        self._close_unfinished()

    def _load(self) -> list[dict[str, Any]]:
        if self.path is None or not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text())
            records = data["sessions"] if isinstance(data, dict) else None
            if not isinstance(records, list) or not all(isinstance(r, dict) and "id" in r for r in records):
                raise ValueError("not a session history")
            return records
        except (OSError, ValueError, KeyError) as exc:
            aside = self.path.with_suffix(f".bad-{int(time.time())}")
            log.warning("session history %s unreadable (%s); set aside as %s", self.path, exc, aside.name)
            try:
                self.path.rename(aside)
            except OSError:
                pass
            return []

    def _close_unfinished(self) -> None:
        """A record still open from an earlier process: that server ended while the session ran."""
        changed = False
        for record in self._records:
            record["current"] = False
            if record.get("ended_at") is None:
                record["ended_at"] = record.get("started_at")
                record["end_cause"] = "shutdown"
                changed = True
        if changed:
            self._write()

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(record) for record in self._records]

    def get(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            return next((dict(r) for r in self._records if r["id"] == session_id), None)

    def last(self) -> dict[str, Any] | None:
        with self._lock:
            return dict(self._records[-1]) if self._records else None

    def add(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records.append(dict(record))
            del self._records[:-_KEEP]
        self._write()

    def update(self, session_id: str, **fields: Any) -> None:
        with self._lock:
            for record in self._records:
                if record["id"] == session_id:
                    record.update(fields)
                    break
            else:
                return
        self._write()

    def _write(self) -> None:
        if self.path is None:
            return
        with self._write_lock:  # one writer at a time: an older snapshot never replaces a newer file
            with self._lock:
                text = json.dumps({"version": 1, "sessions": self._records}, indent=1)
            self._replace(self.path, text)

    @staticmethod
    def _replace(path: Path, text: str) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("session history not written to %s: %s (kept in memory)", path, exc)
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
