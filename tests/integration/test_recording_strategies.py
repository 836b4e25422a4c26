"""Sentry, highlight and dagger over a real server: episodes land on disk, durable when acknowledged."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from helpers import config, dataset_flags, live_server, wait_until
from rollout_console.recording import verify_dataset


def _episodes(client) -> list[dict]:
    return client.get("/api/v1/episodes").json()["data"]


def _recording(client) -> dict:
    return client.get("/api/v1/status").json()["recording"]


def _frames_reach(client, count: int, message: str = "frames") -> int:
    """Wait (generously) until the episode in progress has ``count`` frames; returns what it has."""
    return wait_until(lambda: (frames := _recording(client)["frames"]) >= count and frames, timeout=60,
                      message=message)


def _rows(root, column: str) -> list:
    values = []
    for path in sorted((root / "data").rglob("*.parquet")):
        values.extend(pq.read_table(path).column(column).to_pylist())
    return values


def test_sentry_save_is_acknowledged_once_durable_and_pause_cuts(tmp_path) -> None:
    root = tmp_path / "sentry"
    with live_server(config(*dataset_flags(root, "sentry"), "--return_duration_s=0.3")) as live, live.client() as c:
        wait_until(lambda: c.get("/api/v1/status").json()["recording"]["frames"] > 20, message="frames")
        saved = c.post("/api/v1/commands/save", json={"outcome": "success"})
        assert saved.status_code == 200 and saved.json()["detail"].startswith("episode 0 saved")
        episodes = _episodes(c)  # acknowledged means committed: the list already has it
        assert episodes[0]["index"] == 0 and episodes[0]["extra"]["outcome"] == "success"
        assert verify_dataset(root).ok
        wait_until(lambda: c.get("/api/v1/status").json()["recording"]["frames"] > 10, message="next episode")
        c.post("/api/v1/commands/pause")
        wait_until(lambda: len(_episodes(c)) == 2, message="the pause cuts the episode")
        status = c.get("/api/v1/status").json()
        assert status["recording"]["state"] in ("idle", "saving") and status["upload"]["state"] == "disabled"
        info = c.get("/api/v1/dataset").json()
        assert info["fps"] == 30 and "observation.images.front" in info["features"] and info["total_episodes"] == 2
        assert c.post("/api/v1/commands/upload").status_code == 409  # push_to_hub=false says so
        bad = c.post("/api/v1/commands/save", json={"outcome": "maybe"})
        assert bad.status_code == 422
    report = verify_dataset(root)
    assert report.ok, report
    assert report.episodes >= 2


def test_sentry_rotates_by_time(tmp_path) -> None:
    root = tmp_path / "rotate"
    with live_server(config(*dataset_flags(root, "sentry", "--strategy.episode_time_s=0.5"))) as live, live.client() as c:
        wait_until(lambda: len(_episodes(c)) >= 3, timeout=60, message="rotation")
        lengths = [e["length"] for e in _episodes(c)[:3]]
        assert all(length == 15 for length in lengths), lengths  # 0.5 s at 30 fps, exactly
    assert verify_dataset(root).ok


def test_highlight_mark_save_discard(tmp_path) -> None:
    root = tmp_path / "highlight"
    flags = dataset_flags(root, "highlight", "--strategy.ring_buffer_seconds=1")
    with live_server(config(*flags)) as live, live.client() as c:
        assert c.post("/api/v1/commands/save").status_code == 409  # nothing marked
        wait_until(lambda: _recording(c)["ring"]["fill"] >= 0.999, timeout=60, message="a full ring (1 s max)")
        ring = _recording(c)["ring"]
        assert ring["seconds"] == pytest.approx(1.0, abs=0.05) and ring["fill"] == pytest.approx(1.0, abs=0.05)
        marked = c.post("/api/v1/commands/mark")
        assert marked.status_code == 200 and "30 frames of history" in marked.json()["detail"]
        _frames_reach(c, 30 + 10, "live frames after the mark")
        assert c.post("/api/v1/commands/save").status_code == 200
        assert c.post("/api/v1/commands/mark").status_code == 200
        assert c.post("/api/v1/commands/discard").json()["detail"] == "highlight discarded"
        assert c.post("/api/v1/commands/discard").status_code == 409
        episodes = _episodes(c)
        assert len(episodes) == 1 and episodes[0]["length"] >= 30 + 10
    assert verify_dataset(root).ok


def test_dagger_corrections_are_episodes_with_intervention_true(tmp_path) -> None:
    root = tmp_path / "dagger"
    flags = dataset_flags(root, "dagger", "--teleop.driver=expert", "--return_to_initial_position=false")
    with live_server(config(*flags)) as live, live.client() as c:
        wait_until(lambda: live.session.phase.value == "autonomous", timeout=30, message="autonomous")
        assert c.post("/api/v1/commands/takeover").status_code == 409  # only from paused
        assert c.post("/api/v1/commands/pause").json()["phase"] == "paused"
        assert c.post("/api/v1/commands/takeover").json()["phase"] == "correcting"
        _frames_reach(c, 20, "a correction")
        assert c.post("/api/v1/commands/upload").status_code == 409  # not during a correction
        assert c.post("/api/v1/commands/handback").json()["phase"] == "paused"
        assert c.post("/api/v1/commands/takeover").json()["phase"] == "correcting"
        _frames_reach(c, 10, "a correction to discard")
        assert c.post("/api/v1/commands/discard").json()["phase"] == "paused"
        assert c.post("/api/v1/commands/takeover").json()["phase"] == "correcting"
        _frames_reach(c, 10, "a correction to save")
        saved = c.post("/api/v1/commands/save", json={"outcome": "failure"})
        assert saved.status_code == 200 and saved.json()["phase"] == "paused"
        assert c.post("/api/v1/commands/resume").json()["phase"] == "autonomous"
        wait_until(lambda: len(_episodes(c)) == 2, message="two corrections saved")
        episodes = _episodes(c)
        assert [e["extra"]["outcome"] for e in episodes] == [None, "failure"]
    assert verify_dataset(root).ok
    assert set(_rows(root, "intervention")) == {True}


def test_dagger_continuous_tags_every_frame_and_stops_after_num_episodes(tmp_path) -> None:
    root = tmp_path / "continuous"
    flags = dataset_flags(root, "dagger", "--teleop.driver=expert", "--strategy.record_autonomous=true",
                          "--strategy.num_episodes=2", "--return_to_initial_position=false")
    with live_server(config(*flags)) as live, live.client() as c:
        autonomous = _frames_reach(c, 15, "autonomous frames")
        assert c.post("/api/v1/commands/pause").status_code == 200
        assert c.post("/api/v1/commands/takeover").json()["phase"] == "correcting"
        corrected = _frames_reach(c, autonomous + 15, "corrected frames")
        assert c.post("/api/v1/commands/handback").status_code == 200
        assert c.post("/api/v1/commands/resume").json()["phase"] == "autonomous"
        _frames_reach(c, corrected + 10, "autonomous frames after the correction")
        assert c.post("/api/v1/commands/save", json={"outcome": "success"}).status_code == 200
        _frames_reach(c, 10, "the second episode")
        assert c.post("/api/v1/commands/save").status_code == 200
        wait_until(lambda: live.session.finished, timeout=60, message="stop after num_episodes")
    flags_seen = _rows(root, "intervention")
    assert True in flags_seen and False in flags_seen
    assert verify_dataset(root).ok


class FlakyHub:
    """Injected at the huggingface_hub boundary: the Hub refuses every call (no network)."""

    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name: str):
        def fail(*args, **kwargs):
            self.calls += 1
            raise ConnectionError("hub unreachable (injected)")

        return fail


def test_upload_failure_is_reported_and_recording_carries_on(tmp_path) -> None:
    root = tmp_path / "upload"
    hub = FlakyHub()
    flags = dataset_flags(root, "sentry", "--strategy.episode_time_s=0.4", "--strategy.upload_every_n_episodes=1",
                          push=True)
    with live_server(config(*flags), hub_api=hub) as live, live.client() as c:
        wait_until(lambda: c.get("/api/v1/status").json()["upload"]["last_error"], timeout=60, message="upload error")
        status = c.get("/api/v1/status").json()
        assert "unreachable" in status["upload"]["last_error"] and hub.calls >= 1
        before = len(_episodes(c))
        wait_until(lambda: len(_episodes(c)) > before + 1, timeout=60, message="recording continues")
    assert verify_dataset(root).ok


def test_interpolation_sends_at_n_times_fps_but_records_at_fps(tmp_path) -> None:
    import json

    root = tmp_path / "interp"
    flags = dataset_flags(root, "sentry", "--strategy.episode_time_s=1", "--interpolation_multiplier=3",
                          "--loop.stats_window_s=2")
    with live_server(config(*flags)) as live, live.client() as c:
        wait_until(lambda: len(_episodes(c)) >= 2, timeout=60, message="two episodes")
        recorded = sum(e["length"] for e in _episodes(c))
        status = c.get("/api/v1/status").json()
        assert status["fps"] == 30 and status["control_hz"] == 90
        # three command ticks per recorded frame, counted (not timed): ticks run, rows written
        assert status["loop"]["ticks"] >= 3 * recorded - 3, (status["loop"]["ticks"], recorded)
        lengths = [e["length"] for e in _episodes(c)[:2]]
        assert lengths == [30, 30], "one row per policy tick (30 per second), not per command tick"
    assert json.loads((root / "meta" / "info.json").read_text())["fps"] == 30
    assert verify_dataset(root).ok
