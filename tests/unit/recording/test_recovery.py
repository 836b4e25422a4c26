"""Durability: crashes at every point of a save, kill -9 at random moments, and recovery on open."""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rec_helpers import frame, make_spec, record, small_layout
from rollout_console.errors import RecordingError
from rollout_console.recording import verify_dataset
from rollout_console.recording.layout import STATE_DIR

CHILD = Path(__file__).resolve().parent / "crash_child.py"


def test_temp_files_orphans_and_staging_are_swept_on_open(tmp_path, open_recorder, events) -> None:
    root = tmp_path / "ds"
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout))
    record(recorder, layout, [5, 6])
    recorder.close()
    # what a crash can leave behind: atomic-write temps, an uncommitted episode's files, staged files
    (root / "meta/.info.json.1a2b3c4d.tmp").write_text("{half")
    (root / "meta/episodes/chunk-000/.file-000.parquet.deadbeef.tmp").write_bytes(b"PAR1")
    shutil.copy(root / "data/chunk-000/file-001.parquet", root / "data/chunk-000/file-002.parquet")
    shutil.copy(root / "videos/observation.images.front/chunk-000/file-001.mp4",
                root / "videos/observation.images.front/chunk-000/file-002.mp4")
    staged = root / STATE_DIR / "staging" / "123-0-000009"
    staged.mkdir(parents=True)
    (staged / "observation.images.front.mp4").write_bytes(b"\x00" * 100)
    (staged / "data.parquet").write_bytes(b"PAR1")
    assert verify_dataset(root).errors  # the stray data file would be loaded by LeRobot's reader

    recorder = open_recorder(make_spec(root, layout=layout), resume=True)
    report = recorder.recovery
    assert report is not None and report.changed
    assert report.dropped_interrupted_episodes == 1
    assert sorted(report.removed_orphans) == ["data/chunk-000/file-002.parquet",
                                              "videos/observation.images.front/chunk-000/file-002.mp4"]
    assert "meta/.info.json.1a2b3c4d.tmp" in report.removed_temp_files
    assert "meta/episodes/chunk-000/.file-000.parquet.deadbeef.tmp" in report.removed_temp_files
    assert [kind for kind, _ in events].count("recovered_on_open") == 1
    assert not (root / "data/chunk-000/file-002.parquet").exists() and not staged.exists()
    # the next episode takes the freed names
    record(recorder, layout, [4], first_episode=2)
    recorder.close()
    result = verify_dataset(root)
    assert result.ok and result.episodes == 3, result.summary()


def test_stale_info_and_stats_are_rebuilt_from_the_committed_episodes(tmp_path, open_recorder) -> None:
    root = tmp_path / "ds"
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout))
    record(recorder, layout, [5])
    old_info = (root / "meta/info.json").read_bytes()
    old_stats = (root / "meta/stats.json").read_bytes()
    record(recorder, layout, [7], task="another task", first_episode=1)
    recorder.close()
    # a crash right after the commit point: episodes file has 2 rows, info/stats still describe 1
    (root / "meta/info.json").write_bytes(old_info)
    (root / "meta/stats.json").write_bytes(old_stats)
    assert not verify_dataset(root).ok

    recorder = open_recorder(make_spec(root, layout=layout), resume=True)
    assert any(item.startswith("meta/info.json") for item in recorder.recovery.fixed)
    assert any(item.startswith("meta/stats.json") for item in recorder.recovery.fixed)
    recorder.close()
    info = json.loads((root / "meta/info.json").read_text())
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (2, 12, 2)
    assert json.loads((root / "meta/stats.json").read_text())["action"]["count"] == [12]
    assert verify_dataset(root).ok


class _Crash(Exception):
    """Stands for the process dying at this exact point: nothing after it happens."""


# replaces in one save of an episode with a new task: data, 2 videos, tasks, episodes (commit), stats, info
_REPLACES_PER_SAVE = 7
_COMMIT_POINT = 4


@pytest.mark.parametrize("crash_at", range(_REPLACES_PER_SAVE))
def test_crash_at_each_step_of_a_save(tmp_path, open_recorder, monkeypatch, crash_at) -> None:
    root = tmp_path / "ds"
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout))
    record(recorder, layout, [5])

    real_replace = os.replace
    calls: list[str] = []

    def replace(src, dst, *args, **kwargs):
        if len(calls) == crash_at:
            calls.append(str(dst))
            raise _Crash(f"crash before renaming to {dst}")
        calls.append(str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    recorder.start_episode("second task")
    for i in range(6):
        recorder.add_frame(frame(layout, 1, i))
    future = recorder.save_episode({"outcome": "success"})
    with pytest.raises(RecordingError, match="crash before renaming"):
        future.result(timeout=60)
    monkeypatch.setattr(os, "replace", real_replace)
    recorder.close()
    assert len(calls) == crash_at + 1
    if crash_at >= _COMMIT_POINT:
        assert calls[_COMMIT_POINT].endswith("meta/episodes/chunk-000/file-000.parquet")

    recorder = open_recorder(make_spec(root, layout=layout), resume=True)
    committed = crash_at > _COMMIT_POINT
    assert [e.length for e in recorder.episodes()] == ([5, 6] if committed else [5])
    record(recorder, layout, [4], first_episode=2)  # and the dataset takes more episodes afterwards
    recorder.close()
    report = verify_dataset(root)
    assert report.ok, report.summary()
    assert report.episodes == (3 if committed else 2)


def test_a_missing_referenced_file_is_reported_not_papered_over(tmp_path, open_recorder) -> None:
    root = tmp_path / "ds"
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout))
    record(recorder, layout, [3, 3])
    recorder.close()
    (root / "videos/observation.images.top/chunk-000/file-000.mp4").unlink()
    with pytest.raises(RecordingError, match="observation.images.top/chunk-000/file-000.mp4"):
        open_recorder(make_spec(root, layout=layout), resume=True)


# ---------------------------------------------------------------------- kill -9


def _kill_trial(root: Path, seed: int, trigger: str, count: int) -> dict[int, int]:
    """Run the child until the trigger, SIGKILL it, return the episodes it reported durable."""
    rng = random.Random(seed)
    proc = subprocess.Popen([sys.executable, str(CHILD), str(root), str(seed)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.strip())
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    seen = 0
    saved: dict[int, int] = {}
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = lines.get(timeout=60)
            if line is None:
                raise AssertionError("the child exited on its own")
            parts = line.split()
            if parts[0] == "SAVED":
                saved[int(parts[1])] = int(parts[2])
            if parts[0] == trigger:
                seen += 1
                if seen == count:
                    # mid-save: within the save's ~0.1 s window; mid-episode: while the next one records
                    time.sleep(rng.uniform(0.0, 0.12 if trigger == "SAVING" else 0.04))
                    break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    while True:
        line = lines.get_nowait() if not lines.empty() else None
        if line is None:
            break
        parts = line.split()
        if parts[0] == "SAVED":
            saved[int(parts[1])] = int(parts[2])
    return saved


def _check_after_kill(root: Path, saved: dict[int, int], open_recorder) -> int:
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout), resume=True)
    kept = {e.index: e.length for e in recorder.episodes()}
    recorder.close()
    for index, length in saved.items():
        assert kept.get(index) == length, f"episode {index} was reported durable but is {kept.get(index)}"
    report = verify_dataset(root)
    assert report.ok, report.summary()
    return len(kept)


@pytest.mark.parametrize("trial,trigger,count", [(1, "SAVING", 2), (2, "SAVED", 1), (3, "SAVING", 1),
                                                 (4, "SAVED", 3)])
def test_kill_9_mid_episode_and_mid_save_loses_nothing_saved(tmp_path, open_recorder, trial, trigger, count) -> None:
    root = tmp_path / "ds"
    saved = _kill_trial(root, seed=trial, trigger=trigger, count=count)
    if (root / "meta/info.json").exists():
        kept = _check_after_kill(root, saved, open_recorder)
        assert kept >= len(saved)


@pytest.mark.slow
def test_kill_9_repeatedly_on_one_dataset(tmp_path, open_recorder) -> None:
    """Twelve kills at random points on the same dataset; each child resumes what the last one left."""
    root = tmp_path / "ds"
    rng = random.Random(20240607)
    total_saved: dict[int, int] = {}
    for trial in range(12):
        trigger = rng.choice(["SAVING", "SAVED"])
        saved = _kill_trial(root, seed=100 + trial, trigger=trigger, count=rng.randint(1, 4))
        total_saved.update(saved)
        if (root / "meta/info.json").exists():
            kept = _check_after_kill(root, total_saved, open_recorder)
            assert kept >= len(total_saved)
