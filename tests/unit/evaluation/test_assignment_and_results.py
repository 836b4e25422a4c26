"""Balanced randomised assignment; the results book (exclusions, unknown outcomes, blind rows, words)."""

from __future__ import annotations

from collections import Counter

import pytest
from rollout_console.evaluation.assignment import balanced_assignment
from rollout_console.evaluation.results import HIDDEN_POLICY, EvaluationBook
from rollout_console.evaluation.writer import ResultsWriter


@pytest.mark.parametrize(("names", "episodes"), [(["A", "B"], 40), (["A", "B", "C"], 31), (["A"], 5), (["A", "B"], 7)])
def test_assignment_is_balanced_after_every_block(names: list[str], episodes: int) -> None:
    assignment = balanced_assignment(names, episodes, seed=3)
    assert len(assignment) == episodes
    for end in range(len(names), episodes + 1, len(names)):
        assert set(Counter(assignment.policies[:end]).values()) == {end // len(names)}
    counts = Counter(assignment.policies)
    assert max(counts.values()) - min(counts.values()) <= 1
    blocks = [assignment.scene_seeds[i:i + len(names)] for i in range(0, episodes, len(names))]
    assert all(len(set(block)) == 1 for block in blocks)  # a block's policies face the same scene
    assert len({block[0] for block in blocks}) == len(blocks)


def test_assignment_is_random_but_reproducible() -> None:
    first = balanced_assignment(["A", "B"], 40, seed=1)
    assert first == balanced_assignment(["A", "B"], 40, seed=1)
    assert first.policies != balanced_assignment(["A", "B"], 40, seed=2).policies
    assert first.policies != tuple(["A", "B"] * 20)  # not simply alternating


def _book(outcomes: dict[str, list[str]], blind: bool = False) -> EvaluationBook:
    book = EvaluationBook(list(outcomes), planned=sum(map(len, outcomes.values())), blind=blind)
    episode = 0
    for name, labels in outcomes.items():
        for label in labels:
            episode += 1
            record = book.begin(episode, name, scene_seed=0)
            book.update(record, outcome=label, time_to_success_s=4.0 + episode if label == "success" else None,
                        duration_s=5.0)
    return book


def test_report_per_policy_and_comparison_in_words() -> None:
    book = _book({"A": ["success"] * 9 + ["failure"] * 11, "B": ["success"] * 17 + ["failure"] * 3})
    report = book.report()
    a, b = report["policies"]
    assert (a["name"], a["episodes"], a["successes"], a["success_rate"]) == ("A", 20, 9, 0.45)
    assert b["successes"] == 17 and b["ci95"][0] < 0.85 < b["ci95"][1]
    pair = report["comparison"]["pairs"][0]
    assert pair["verdict"] == "b_better" and pair["difference"] == pytest.approx(0.4)
    assert report["comparison"]["summary"].startswith("B is better than A: 17/20 vs 9/20, difference 40 points, 95 % CI")
    assert "p = 0.0" in report["comparison"]["summary"]


def test_baseline_better_is_stated_from_its_side() -> None:
    report = _book({"A": ["success"] * 17 + ["failure"] * 3, "B": ["success"] * 9 + ["failure"] * 11}).report()
    assert report["comparison"]["summary"].startswith("A is better than B: 17/20 vs 9/20, difference 40 points")


def test_not_distinguishable_says_how_many_more_episodes() -> None:
    report = _book({"A": ["success", "failure", "success"], "B": ["success", "success", "failure"]}).report()
    pair = report["comparison"]["pairs"][0]
    assert pair["verdict"] == "not_distinguishable" and pair["more_episodes_each"] == pair["episodes_needed_each"] - 3
    assert f"about {pair['more_episodes_each']} more episodes each" in pair["summary"]
    assert "20-point difference at 80 % power" in pair["summary"]


def test_unknown_and_excluded_do_not_count_but_are_shown() -> None:
    book = _book({"A": ["success", "unknown", "failure", "success"]})
    assert isinstance(book.exclude(4, "the cube was knocked over before the episode"), object)
    assert isinstance(book.exclude(99, "no such"), str)
    policy = book.report()["policies"][0]
    assert (policy["episodes"], policy["successes"], policy["unknown"], policy["excluded"]) == (2, 1, 1, 1)
    row = book.report()["episodes"][3]
    assert row["excluded"] and row["exclude_reason"].startswith("the cube")


def test_blind_rows_hide_the_policy_until_the_outcome() -> None:
    book = EvaluationBook(["A", "B"], planned=2, blind=True)
    record = book.begin(1, "B", scene_seed=0)
    assert book.report()["episodes"][0]["policy"] == HIDDEN_POLICY
    assert all(p["episodes"] == 0 for p in book.report()["policies"])
    book.update(record, outcome="success")
    assert book.report()["episodes"][0]["policy"] == "B"


def test_writer_writes_json_and_csv_atomically(tmp_path) -> None:
    book = _book({"A": ["success", "failure"], "B": ["success"]})
    writer = ResultsWriter(tmp_path / "out")
    writer.submit(book.report())
    writer.close()
    import csv
    import json

    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert [p["name"] for p in data["policies"]] == ["A", "B"]
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert [r["outcome"] for r in rows] == ["success", "failure", "success"] and rows[2]["policy"] == "B"
    assert not list((tmp_path / "out").glob(".*.tmp"))
