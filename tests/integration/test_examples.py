"""examples/ run as real processes against a real server on the sim (the Hub faked at its client boundary)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import REPO, config, dataset_flags, live_server
from rollout_console.client import Console
from rollout_console.recording import verify_dataset

EXAMPLES = REPO / "examples"


class FakeHub:
    """Stands in for huggingface_hub.HfApi: accepts every call and keeps what was committed (no network)."""

    token = "hf_fake_token"

    def __init__(self) -> None:
        self.committed: list[str] = []
        self.lock = threading.Lock()

    def create_repo(self, repo_id, **kwargs):
        return SimpleNamespace(repo_id=repo_id)

    def preupload_lfs_files(self, repo_id, additions, **kwargs):
        return None

    def create_commit(self, repo_id, operations, **kwargs):
        with self.lock:
            self.committed.extend(op.path_in_repo for op in operations)
        return SimpleNamespace(oid="0" * 40)

    def delete_tag(self, repo_id, **kwargs):
        return None

    def create_tag(self, repo_id, **kwargs):
        return None


def _run(script: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)


def _dagger_flags(root: Path) -> list[str]:
    return dataset_flags(root, "dagger", "--teleop.driver=expert", "--strategy.record_autonomous=true",
                         "--return_to_initial_position=false", "--lease.timeout_s=10", push=True)


@pytest.mark.parametrize("patience", [30.0, 1.0], ids=["policy-succeeds", "operator-corrects"])
def test_dagger_campaign_labels_saves_and_uploads(tmp_path, patience) -> None:
    hub = FakeHub()
    root = tmp_path / "campaign"
    with live_server(config(*_dagger_flags(root)), hub_api=hub) as live:
        done = _run("dagger_campaign.py", live.url, "--attempts", "2", "--patience", str(patience))
        assert done.returncode == 0, done.stderr + done.stdout
        with Console(live.url) as console:
            episodes = console.episodes()
            label = "success" if patience > 10 else "failure"
            assert [e.outcome for e in episodes] == [label, label]
            assert f"2 attempts: {2 if label == 'success' else 0} success" in done.stdout
            assert "upload: upload_done" in done.stdout and any(p.startswith("data/") for p in hub.committed)
            assert console.lease()["holder"] is None  # released at the end
            events = console.recent_events().data
            if label == "failure":
                assert [e.kind for e in events].count("correction_started") == 2
    assert verify_dataset(root).ok


def test_event_logger_writes_json_lines_in_order(tmp_path) -> None:
    out = tmp_path / "events.jsonl"
    with live_server(config("--return_to_initial_position=false")) as live, Console(live.url) as console:
        console.wait_for("autonomous", timeout=30)
        since = console.status().event_seq
        console.pause()
        console.resume()
        logged = _run("event_logger.py", live.url, "--since", str(since), "--count", "4", "--out", str(out))
        assert logged.returncode == 0, logged.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 4 and [line["seq"] for line in lines] == list(range(since + 1, since + 5))
    assert {line["kind"] for line in lines} == {"phase_changed", "command"}


def test_walkthrough_runs_top_to_bottom(tmp_path) -> None:
    root = tmp_path / "walkthrough"
    with live_server(config(*_dagger_flags(root)), hub_api=FakeHub()) as live:
        done = _run("walkthrough.py", live.url)
        assert done.returncode == 0, done.stderr + done.stdout
        assert "rejected:" in done.stdout and "the other client is told who holds control: walkthrough" in done.stdout
        assert " dagger running 1" in done.stdout, done.stdout
        video = Path(done.stdout.split("video: ", 1)[1].split()[0])
        assert video.read_bytes()[4:8] == b"ftyp", "an MP4"
        with Console(live.url) as console:
            assert console.episodes()[0].outcome == "failure"


def test_the_dozen_line_campaign_in_the_docs_runs(tmp_path) -> None:
    text = (REPO / "docs" / "scripting.md").read_text()
    block = text.split("<!-- dagger-campaign", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in block.splitlines() if line.strip()]) <= 16, "keep the docs' campaign short"
    hub = FakeHub()
    root = tmp_path / "docs-campaign"
    with live_server(config(*_dagger_flags(root)), hub_api=hub) as live:
        code = block.replace("http://127.0.0.1:8000", live.url).replace("range(20)", "range(2)")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
        assert done.returncode == 0, done.stderr
        with Console(live.url) as console:
            episodes = console.episodes()
            assert len(episodes) == 2 and {e.outcome for e in episodes} <= {"success", "failure"}
            console.wait_for(until=lambda s: s.upload.uploaded_episodes == 2, timeout=120)
    assert any(path.startswith("data/") for path in hub.committed)
    assert verify_dataset(root).ok
