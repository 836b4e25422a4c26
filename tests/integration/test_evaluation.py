"""Episodic evaluation over a real server: the unattended sim comparison (sim_flow vs the scripted expert,
automatic outcomes and resets, end on success, recorded), and blind operator labelling over the API."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
from helpers import config, live_server, wait_until
from rollout_console.evaluation.stats import wilson
from rollout_console.recording import verify_dataset

EPISODES = 6


def _episode_columns(root) -> list[dict]:
    rows = []
    for path in sorted((root / "meta" / "episodes").rglob("*.parquet")):
        rows.extend(pq.read_table(path, columns=["episode_index", "outcome", "policy", "time_to_success_s"]).to_pylist())
    return rows


def test_unattended_sim_comparison_records_outcomes_and_statistics(tmp_path) -> None:
    root, out = tmp_path / "eval", tmp_path / "results"
    flags = ["--strategy.type=episodic", '--strategy.policies=[{path: "builtin:sim_flow"}, {type: scripted}]',
             f"--strategy.num_episodes={EPISODES}", "--strategy.episode_time_s=15", "--strategy.reset_time_s=0.2",
             f"--strategy.output_dir={out}", "--return_duration_s=0.5", "--strategy.seed=4",
             "--dataset.repo_id=tester/eval", f"--dataset.root={root}", "--dataset.vcodec=h264",
             "--dataset.stamp_repo_id=false", "--dataset.push_to_hub=false"]
    with live_server(config(*flags)) as live, live.client() as c:
        status = wait_until(lambda: (s := c.get("/api/v1/status").json())["phase"] == "autonomous" and s,
                            timeout=60, message="the first episode")
        assert status["evaluation"]["episode"] == 1 and status["evaluation"]["of"] == EPISODES
        assert status["policy"]["name"] in ("sim_flow", "scripted_expert")
        wait_until(lambda: live.session.finished, timeout=400, interval=0.5, message="all episodes and the stop")
        report = c.get("/api/v1/evaluation").json()
        kinds = [e["kind"] for e in c.get("/api/v1/events").json()["data"]]
    assert report["finished_episodes"] == EPISODES
    rows = report["episodes"]
    assert [r["episode"] for r in rows] == list(range(1, EPISODES + 1))
    assert all(r["outcome"] in ("success", "failure") and r["outcome_source"] == "detector" for r in rows)
    for r in rows:
        assert (r["outcome"] == "success") == (r["time_to_success_s"] is not None)
        assert r["duration_s"] <= 15.0 + 0.5
    by_policy = {p["name"]: p for p in report["policies"]}
    assert set(by_policy) == {"sim_flow", "scripted"}
    for name, policy in by_policy.items():
        assert policy["episodes"] == EPISODES // 2  # balanced
        successes = sum(1 for r in rows if r["policy"] == name and r["outcome"] == "success")
        assert policy["successes"] == successes
        low, high = wilson(successes, EPISODES // 2)
        assert policy["ci95"] == [round(low, 4), round(high, 4)]
    assert sum(p["successes"] for p in by_policy.values()) >= 1  # both policies solve this task; at least one did
    pair = report["comparison"]["pairs"][0]
    assert pair["a"] == "sim_flow" and pair["b"] == "scripted" and pair["p_value"] is not None
    assert report["comparison"]["summary"]
    assert "evaluation_finished" in kinds and kinds.count("evaluation_outcome") == EPISODES
    saved = json.loads((out / "results.json").read_text())
    assert saved["finished_episodes"] == EPISODES and saved["policies"] == report["policies"]
    assert len(list(csv.DictReader((out / "results.csv").open()))) == EPISODES
    columns = _episode_columns(root)
    assert [(c["outcome"], c["policy"]) for c in columns] == [(r["outcome"], r["policy"]) for r in rows]
    assert [r["dataset_episode"] for r in saved["episodes"]] == [c["episode_index"] for c in columns]
    assert verify_dataset(root).ok


def test_blind_operator_labelling_over_the_api(tmp_path) -> None:
    flags = ["--strategy.type=episodic", "--strategy.blind=true", "--strategy.outcome_from=operator",
             '--strategy.policies=[{type: scripted, name: A}, {type: scripted, name: B, max_joint_speed_deg_s: 90}]',
             "--strategy.num_episodes=2", "--strategy.episode_time_s=60", "--strategy.reset_time_s=60",
             f"--strategy.output_dir={tmp_path}", "--return_duration_s=0.3"]
    with live_server(config(*flags)) as live, live.client() as c:
        wait_until(lambda: c.get("/api/v1/status").json()["phase"] == "resetting", timeout=30, message="reset")
        assert c.post("/api/v1/commands/end_reset").status_code == 200
        status = wait_until(lambda: (s := c.get("/api/v1/status").json())["phase"] == "autonomous" and s,
                            timeout=30, message="the episode")
        assert status["evaluation"]["policy"] == "hidden" and status["policy"]["name"].startswith("hidden")
        assert status["inference"]["engine"].startswith("hidden")
        metrics = c.get("/metrics").text
        assert 'policy="hidden (blind evaluation)"' in metrics and "scripted_expert" not in metrics
        started = [e for e in c.get("/api/v1/events").json()["data"] if e["kind"] == "evaluation_episode_started"]
        assert started[0]["data"]["policy"] == "hidden"
        assert c.get("/api/v1/evaluation").json()["episodes"][0]["policy"] == "hidden"
        assert c.post("/api/v1/commands/exclude", json={"episode": 1, "reason": "x"}).status_code == 409
        assert c.post("/api/v1/commands/save", json={"outcome": "perhaps"}).status_code == 422
        assert c.post("/api/v1/commands/end_episode").json()["phase"] == "awaiting_outcome"
        assert c.post("/api/v1/commands/save").status_code == 422  # the outcome is required now
        labelled = c.post("/api/v1/commands/save", json={"outcome": "failure"})
        assert labelled.status_code == 200 and labelled.json()["phase"] == "resetting"
        report = c.get("/api/v1/evaluation").json()
        assert report["episodes"][0]["policy"] in ("A", "B") and report["episodes"][0]["outcome"] == "failure"
        outcome = [e for e in c.get("/api/v1/events").json()["data"] if e["kind"] == "evaluation_outcome"][0]
        assert outcome["data"]["policy"] == report["episodes"][0]["policy"]
        assert c.post("/api/v1/commands/exclude", json={"episode": 1}).status_code == 422
        excluded = c.post("/api/v1/commands/exclude", json={"episode": 1, "reason": "cube fell off the table"})
        assert excluded.status_code == 200
        assert c.get("/api/v1/evaluation").json()["episodes"][0]["exclude_reason"] == "cube fell off the table"
        assert c.post("/api/v1/commands/stop").status_code == 200
        wait_until(lambda: live.session.finished, timeout=30, message="stop")
