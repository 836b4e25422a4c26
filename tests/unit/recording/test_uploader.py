"""HubUploader against an HfApi whose network calls are replaced (failures injected at that boundary)."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import pytest
from helpers import wait_until
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from rec_helpers import frame, make_spec, record, small_layout
from rollout_console.recording import HubUploader, verify_dataset
from rollout_console.recording.layout import STATE_DIR
from rollout_console.recording.uploader import NO_TOKEN, snapshot_from_disk

URL = "https://huggingface.co/api/datasets/tester/recording/commit/main"


def http_error(status: int) -> HfHubHTTPError:
    """An HfHubHTTPError as huggingface_hub raises it (httpx2 in 2.x, requests in 0.x)."""
    try:
        import httpx2 as http

        response = http.Response(status, request=http.Request("POST", URL))
    except ImportError:  # huggingface_hub 0.x
        import requests

        response = requests.Response()
        response.status_code = status
        response.url = URL
    return HfHubHTTPError(f"{status} Server Error for url {URL}", response=response)


class FakeHub(HfApi):
    """HfApi with its network calls replaced: records calls, keeps committed files, fails on demand."""

    def __init__(self, *, token: str | None = "hf_test_token", failures=(), fail_forever: Exception | None = None):
        super().__init__(token=token)
        self.failures = list(failures)
        self.fail_forever = fail_forever
        self.calls: list[tuple] = []
        self.files: dict[str, bytes] = {}
        self.commits: list[list[str]] = []
        self.tags: dict[str, int] = {}

    def create_repo(self, repo_id, *, repo_type=None, private=None, exist_ok=False, **kwargs):
        self.calls.append(("create_repo", repo_id, repo_type, private, exist_ok))
        return SimpleNamespace(repo_id=repo_id)

    def preupload_lfs_files(self, repo_id, additions, *, repo_type=None, **kwargs):
        self.calls.append(("preupload", [op.path_in_repo for op in additions], repo_type))

    def create_commit(self, repo_id, operations, *, commit_message, repo_type=None, **kwargs):
        operations = list(operations)
        self.calls.append(("create_commit", time.monotonic(), [op.path_in_repo for op in operations], repo_type))
        if self.fail_forever is not None:
            raise self.fail_forever
        if self.failures:
            raise self.failures.pop(0)
        for op in operations:
            with op.as_file() as handle:
                self.files[op.path_in_repo] = handle.read()
        self.commits.append([op.path_in_repo for op in operations])
        return SimpleNamespace(oid=f"{len(self.commits):040d}", commit_message=commit_message)

    def delete_tag(self, repo_id, *, tag, repo_type=None, **kwargs):
        self.calls.append(("delete_tag", tag, repo_type))
        if tag not in self.tags:
            raise http_error(404)
        del self.tags[tag]

    def create_tag(self, repo_id, *, tag, repo_type=None, exist_ok=False, **kwargs):
        self.calls.append(("create_tag", tag, repo_type))
        self.tags[tag] = len(self.commits)

    def materialise(self, directory: Path) -> Path:
        for name, data in self.files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return directory

    def commit_calls(self) -> list[tuple]:
        return [c for c in self.calls if c[0] == "create_commit"]


@pytest.fixture
def dataset(tmp_path, open_recorder):
    root = tmp_path / "ds"
    layout = small_layout()
    recorder = open_recorder(make_spec(root, layout=layout))
    record(recorder, layout, [5, 4], extra={"outcome": "success"})
    return recorder, layout, root


def make_uploader(recorder, api, events=None, **kwargs) -> HubUploader:
    uploader = HubUploader(recorder.root, "tester/recording", recorder.snapshot, api=api, private=True,
                           tags=["so101", "sim"], on_event=(lambda k, d: events.append((k, d))) if events is not None
                           else None, base_delay_s=kwargs.pop("base_delay_s", 0.05), **kwargs)
    recorder.set_uploaded_source(uploader.uploaded_episodes)
    return uploader


def test_upload_sends_one_consistent_snapshot(dataset, tmp_path) -> None:
    recorder, _, root = dataset
    hub = FakeHub()
    events: list = []
    uploader = make_uploader(recorder, hub, events)
    try:
        uploader.request_upload()
        assert uploader.wait_idle(30)
        status = uploader.status()
    finally:
        uploader.close()
    assert status["state"] == "done" and status["last_error"] is None and status["uploaded_episodes"] == 2
    assert status["progress"]["files_done"] == status["progress"]["files_total"] > 0
    assert status["progress"]["bytes_done"] == status["progress"]["bytes_total"] > 0
    assert ("create_repo", "tester/recording", "dataset", True, True) in hub.calls
    assert len(hub.commits) == 1 and hub.tags == {"v3.0": 1}
    assert all(c[-1] == "dataset" for c in hub.calls if c[0] in ("create_commit", "preupload", "create_tag"))
    # exactly the committed files: data + videos of both episodes, metadata, a card; nothing private
    expected = {f"data/chunk-000/file-00{i}.parquet" for i in range(2)}
    expected |= {f"videos/observation.images.{c}/chunk-000/file-00{i}.mp4" for c in ("front", "top") for i in range(2)}
    expected |= {"meta/info.json", "meta/stats.json", "meta/tasks.parquet", "meta/episodes/chunk-000/file-000.parquet",
                 "README.md"}
    assert set(hub.files) == expected
    assert all(hub.files[name] == (root / name).read_bytes() for name in expected - {"README.md"})
    card = hub.files["README.md"].decode()
    assert "LeRobot" in card and '"so101"' in card and "data/*/*.parquet" in card
    # the Hub copy on its own is a valid dataset
    report = verify_dataset(hub.materialise(tmp_path / "hub"))
    assert report.ok and report.episodes == 2, report.summary()
    assert [e.uploaded for e in recorder.episodes()] == [True, True]
    kinds = [k for k, _ in events]
    assert kinds[0] == "upload_started" and kinds[-1] == "upload_done" and "upload_progress" in kinds


def test_failures_are_retried_with_exponential_backoff(dataset, tmp_path) -> None:
    recorder, _, _ = dataset
    hub = FakeHub(failures=[http_error(503), ConnectionError("connection reset by peer"), http_error(429)])
    first_failure: list[dict] = []

    class Recorded(list):  # the status as the first failure is announced (emitted after the state changed)
        def append(self, item) -> None:  # noqa: ANN001
            if item[0] == "upload_failed" and not first_failure:
                first_failure.append(uploader.status())
            super().append(item)

    events = Recorded()
    uploader = make_uploader(recorder, hub, events, base_delay_s=0.1)
    try:
        uploader.request_upload()
        assert uploader.wait_idle(60)
        status = first_failure[0]
        assert status["state"] == "retrying" and "503" in status["last_error"] and status["retry_in_s"] is not None
        status = uploader.status()
    finally:
        uploader.close()
    assert status["state"] == "done" and status["last_error"] is None
    times = [c[1] for c in hub.commit_calls()]
    assert len(times) == 4
    gaps = [b - a for a, b in itertools.pairwise(times)]
    for gap, delay in zip(gaps, (0.1, 0.2, 0.4), strict=True):
        # doubling, as a floor (a loaded machine may only add to a gap)
        assert gap >= delay, f"retried after {gap:.3f} s, back-off should be {delay} s"
    failed = [d for k, d in events if k == "upload_failed"]
    assert [f["will_retry"] for f in failed] == [True, True, True]
    assert "ConnectionError" in failed[1]["error"]
    report = verify_dataset(hub.materialise(tmp_path / "hub"))
    assert report.ok, report.summary()


def test_missing_token_is_a_clear_error_and_recording_goes_on(dataset, monkeypatch, tmp_path) -> None:
    recorder, layout, root = dataset
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-tokens"))
    uploader = make_uploader(recorder, HfApi())  # the real client: it must not even try the network
    try:
        uploader.request_upload()
        assert uploader.wait_idle(30)
        status = uploader.status()
        assert status["state"] == "error" and status["last_error"] == NO_TOKEN
        assert "hf auth login" in NO_TOKEN and "HF_TOKEN" in NO_TOKEN
        time.sleep(0.2)
        assert uploader.status()["attempts"] == 1  # no retry loop without credentials
        info = record(recorder, layout, [3], first_episode=2)[0]  # recording is unaffected
        assert info.index == 2
    finally:
        uploader.close()
    assert verify_dataset(root).ok


def test_rejected_credentials_are_not_retried_until_asked_again(dataset) -> None:
    recorder, _, _ = dataset
    hub = FakeHub(failures=[http_error(401)])
    uploader = make_uploader(recorder, hub)
    try:
        uploader.request_upload()
        assert uploader.wait_idle(30)
        status = uploader.status()
        assert status["state"] == "error" and "rejected the token (401)" in status["last_error"]
        time.sleep(0.3)
        assert len(hub.commit_calls()) == 1
        uploader.request_upload()  # e.g. after `hf auth login`
        assert uploader.wait_idle(30)
        assert uploader.status()["state"] == "done"
    finally:
        uploader.close()
    assert len(hub.commits) == 1


def test_pending_upload_resumes_after_a_restart(dataset, tmp_path) -> None:
    recorder, _, root = dataset
    offline = FakeHub(fail_forever=ConnectionError("network is unreachable"))
    first = make_uploader(recorder, offline, base_delay_s=60)
    try:
        first.request_upload()
        wait_until(lambda: first.status()["state"] == "retrying", timeout=30, message="retrying")
    finally:
        first.close()
    state = json.loads((root / STATE_DIR / "upload.json").read_text())
    assert state["pending"] is True and state["uploaded_episodes"] == 0 and state["repo_id"] == "tester/recording"

    online = FakeHub()
    second = make_uploader(recorder, online)  # nobody asks again: the pending work is picked up
    try:
        assert second.wait_idle(30)
        assert second.status()["state"] == "done"
    finally:
        second.close()
    assert online.commits and verify_dataset(online.materialise(tmp_path / "hub")).ok
    state = json.loads((root / STATE_DIR / "upload.json").read_text())
    assert state["pending"] is False and state["uploaded_episodes"] == 2


def test_later_uploads_send_only_new_files_and_fresh_metadata(dataset, tmp_path) -> None:
    recorder, layout, _ = dataset
    hub = FakeHub()
    uploader = make_uploader(recorder, hub)
    try:
        uploader.request_upload()
        assert uploader.wait_idle(30)
        record(recorder, layout, [6], first_episode=2)
        uploader.request_upload()
        assert uploader.wait_idle(30)
    finally:
        uploader.close()
    assert len(hub.commits) == 2
    assert sorted(hub.commits[1]) == sorted([
        "data/chunk-000/file-002.parquet", "videos/observation.images.front/chunk-000/file-002.mp4",
        "videos/observation.images.top/chunk-000/file-002.mp4", "meta/episodes/chunk-000/file-000.parquet",
        "meta/info.json", "meta/stats.json", "meta/tasks.parquet"])
    assert hub.tags == {"v3.0": 2}  # the version tag follows the newest commit
    report = verify_dataset(hub.materialise(tmp_path / "hub"))
    assert report.ok and report.episodes == 3, report.summary()


def test_upload_while_recording_contains_only_committed_episodes(dataset, tmp_path) -> None:
    recorder, layout, _ = dataset
    recorder.start_episode("in progress")
    for i in range(10):
        recorder.add_frame(frame(layout, 7, i))
    hub = FakeHub()
    uploader = make_uploader(recorder, hub)
    try:
        uploader.request_upload()
        assert uploader.wait_idle(30)
    finally:
        uploader.close()
    recorder.discard_episode()
    report = verify_dataset(hub.materialise(tmp_path / "hub"))
    assert report.ok and report.episodes == 2, report.summary()
    assert not [name for name in hub.files if ".cache" in name or name.endswith(".tmp")]


def test_snapshot_from_disk_matches_the_recorder_snapshot(dataset) -> None:
    recorder, _, root = dataset
    live = recorder.snapshot()
    recorder.close()
    disk = snapshot_from_disk(root)
    assert (disk.episodes, disk.frames, disk.files) == (live.episodes, live.frames, live.files)
    assert disk.meta == live.meta
