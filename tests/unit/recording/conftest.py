"""Fixtures for the recording tests: small real datasets (real encoders, real files)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # rec_helpers, crash_child

from rollout_console.recording import EpisodeRecorder, RecorderSpec


@pytest.fixture
def events() -> list[tuple[str, dict[str, Any]]]:
    return []


@pytest.fixture
def open_recorder(events) -> Iterator[Callable[..., EpisodeRecorder]]:
    opened: list[EpisodeRecorder] = []

    def factory(spec: RecorderSpec, resume: bool = False) -> EpisodeRecorder:
        recorder = EpisodeRecorder.open(spec, resume, on_event=lambda kind, data: events.append((kind, data)))
        opened.append(recorder)
        return recorder

    yield factory
    for recorder in opened:
        recorder.close(timeout=30)
