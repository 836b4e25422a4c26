"""Crash-safe file primitives: write to a temporary name, fsync, rename, fsync the directory.

A rename is atomic on POSIX file systems, and fsync of the file before the rename plus fsync of the
directory after it make the new name and its content durable across power loss. Temporary names
start with ``.`` and end with ``.tmp`` so no reader glob (``*.parquet``, ``*.json``) ever matches
one, and recovery can sweep them.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = [
    "TMP_SUFFIX",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_json",
    "durable_rename",
    "fsync_dir",
    "fsync_file",
    "is_temp_name",
    "make_dirs",
]

TMP_SUFFIX = ".tmp"


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def temp_path_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")


def fsync_dir(path: Path) -> None:
    """Make the directory entries (creations, renames) of ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: Path) -> None:
    """``mkdir -p`` that also makes each newly created level durable in its parent."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
        fsync_dir(directory.parent)


def durable_rename(source: Path, target: Path) -> None:
    """Rename an fsync'd file into place and make the rename durable (both directories)."""
    make_dirs(target.parent)
    os.replace(source, target)
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)


def atomic_write(path: Path, writer: Callable[[IO[bytes]], Any]) -> None:
    """Write ``path`` through ``writer(file)`` so readers see the old or the new content, never a mix."""
    make_dirs(path.parent)
    tmp = temp_path_for(path)
    try:
        with open(tmp, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda handle: handle.write(data))


def json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=4, ensure_ascii=False) + "\n").encode("utf-8")


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write_bytes(path, json_bytes(value))
