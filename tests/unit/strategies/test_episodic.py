"""The episodic strategy tick by tick on fakes: resets, outcomes from detector/operator/both, re-record,
exclusion, blind mode, pauses, stop; no threads but the results writer, a fake clock."""

from __future__ import annotations

from typing import Any

import pytest
from rollout_console.inference.switch import HIDDEN, EngineSwitch
from rollout_console.protocol.commands import Command, CommandOutcome
from rollout_console.protocol.phases import Phase
from rollout_console.strategies.episodic import EpisodicStrategy
from rollout_console.strategies.recording import Recording
from strategy_fakes import FakeEngine, FakeRecorder, make_context

P = Phase
DT = 1 / 30


class Harness:
    def __init__(self, tmp_path: Any, *flags: str, detector: bool = True, recorder: FakeRecorder | None = None) -> None:
        self.ctx, *_ = make_context("--strategy.type=episodic", "--return_to_initial_position=false",
                                    "--strategy.reset_time_s=0.1", "--strategy.episode_time_s=1",
                                    "--strategy.num_episodes=4", *flags)
        engines = {}
        for name in ("A", "B"):
            engine = FakeEngine()
            engine.policy_name = name
            engines[name] = engine
        self.switch = EngineSwitch(engines, blind=self.ctx.config.strategy.blind)
        self.ctx.engine = self.switch
        self.success = False
        self.recording = None
        if recorder is not None:
            self.recording = Recording(recorder, None, self.ctx.layout, self.ctx.events, "task", 0)
        self.strategy = EpisodicStrategy(self.ctx.config.strategy, self.recording, ["A", "B"],
                                         (lambda obs: self.success) if detector else None, tmp_path / "results",
                                         self.switch)

    def tick(self, n: int = 1) -> None:
        for _ in range(n):
            self.ctx.tick += 1
            self.ctx.now += DT
            self.strategy.tick(self.ctx)

    def until(self, phase: Phase, limit: int = 200) -> None:
        for _ in range(limit):
            if self.ctx.phase is phase:
                return
            self.tick()
        raise AssertionError(f"never reached {phase}; phase {self.ctx.phase}")

    def send(self, name: str, **args: Any) -> Any:
        return self.strategy.handle(self.ctx, Command(name, args, source="test"))

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e.data for e in self.ctx.events.since(0) if e.kind == kind]

    @property
    def report(self) -> dict[str, Any]:
        return self.strategy.book.report()


def test_unattended_detector_outcomes_resets_and_stop(tmp_path) -> None:
    h = Harness(tmp_path)
    h.tick()
    assert h.ctx.phase is P.RESETTING and h.strategy.status()["evaluation"]["stage"] == "scene"
    h.until(P.AUTONOMOUS)
    first = h.strategy.assignment.policies[0]
    assert h.switch.selected == first and h.strategy.status()["evaluation"]["policy"] == first
    h.tick(5)
    h.success = True
    h.tick()
    assert h.ctx.phase is P.RESETTING  # ended on success, labelled by the detector, reset begins
    h.success = False
    h.until(P.AUTONOMOUS)
    h.until(P.RESETTING, limit=60)  # nobody succeeds: the time limit ends it
    h.until(P.AUTONOMOUS)
    h.until(P.RESETTING, limit=60)
    h.until(P.AUTONOMOUS)
    h.until(P.STOPPED, limit=60)  # after the last episode: stopping (home), then stopped
    rows = h.report["episodes"]
    assert [r["outcome"] for r in rows] == ["success", "failure", "failure", "failure"]
    assert {r["outcome_source"] for r in rows} == {"detector"}
    assert rows[0]["time_to_success_s"] == pytest.approx(6 * DT, abs=1.5 * DT)
    assert rows[1]["duration_s"] == pytest.approx(1.0, abs=2 * DT)
    assert sorted(r["policy"] for r in rows) == ["A", "A", "B", "B"]
    assert [r["policy"] for r in rows] == list(h.strategy.assignment.policies)
    assert h.events("evaluation_finished")


def test_blind_hides_the_policy_until_the_outcome(tmp_path) -> None:
    h = Harness(tmp_path, "--strategy.blind=true", "--strategy.outcome_from=operator", detector=False)
    h.until(P.AUTONOMOUS)
    running = h.strategy.assignment.policies[0]
    assert h.strategy.status()["evaluation"]["policy"] == "hidden"
    assert h.switch.policy_name == HIDDEN and h.ctx.engine.policy_name == HIDDEN
    status = h.switch.status()
    assert status["policy"] == HIDDEN and status["engine"] == HIDDEN and status["latency_ms"]["p50"] is None
    assert h.events("evaluation_episode_started")[0]["policy"] == "hidden"
    assert h.report["episodes"][0]["policy"] == "hidden"
    h.until(P.AWAITING_OUTCOME, limit=60)
    assert h.switch.policy_name == HIDDEN and h.report["episodes"][0]["policy"] == "hidden"
    assert all(str(running) not in str(e.data) for e in h.ctx.events.since(0) if e.kind != "phase_changed")
    assert h.send("save", outcome="success").accepted
    assert h.events("evaluation_outcome")[0]["policy"] == running
    assert h.report["episodes"][0]["policy"] == running and h.switch.policy_name == running
    h.until(P.AUTONOMOUS)
    assert h.switch.policy_name == HIDDEN  # the next episode is hidden again


def test_operator_labels_every_episode(tmp_path) -> None:
    h = Harness(tmp_path, "--strategy.outcome_from=operator", detector=False)
    h.until(P.AUTONOMOUS)
    assert h.send("save", outcome="maybe").outcome == CommandOutcome.BAD_ARGS
    assert h.send("end_episode").accepted and h.ctx.phase is P.AWAITING_OUTCOME
    h.tick(10)
    assert h.ctx.phase is P.AWAITING_OUTCOME  # waits as long as it takes
    missing = h.send("save")
    assert not missing.accepted and missing.outcome == CommandOutcome.BAD_ARGS
    assert h.send("save", outcome="unknown").accepted and h.ctx.phase is P.RESETTING
    h.until(P.AUTONOMOUS)
    assert h.send("save", outcome="failure").accepted and h.ctx.phase is P.RESETTING  # label while it runs
    rows = h.report["episodes"]
    assert [(r["outcome"], r["outcome_source"]) for r in rows] == [("unknown", "operator"), ("failure", "operator")]
    assert h.report["policies"][0]["episodes"] + h.report["policies"][1]["episodes"] == 1  # unknown is not counted


def test_both_operator_confirms_or_overrides_the_detector(tmp_path) -> None:
    h = Harness(tmp_path, "--strategy.outcome_from=both")
    h.until(P.AUTONOMOUS)
    h.success = True
    h.tick()
    assert h.ctx.phase is P.AWAITING_OUTCOME and h.strategy.status()["evaluation"]["proposal"] == "success"
    h.send("save", outcome="failure")
    h.success = False
    h.until(P.AUTONOMOUS)
    h.until(P.AWAITING_OUTCOME, limit=60)
    assert h.strategy.status()["evaluation"]["proposal"] == "failure"
    h.send("save", outcome="failure")
    assert [r["outcome_source"] for r in h.report["episodes"]] == ["operator_overrode", "operator_confirmed"]
    assert [r["detector"] for r in h.report["episodes"]] == [True, False]


def test_discard_reruns_the_same_episode_and_nothing_is_saved(tmp_path) -> None:
    recorder = FakeRecorder()
    h = Harness(tmp_path, recorder=recorder)
    h.until(P.AUTONOMOUS)
    policy = h.switch.selected
    h.tick(5)
    assert recorder.open
    assert h.send("discard").accepted and h.ctx.phase is P.RESETTING
    assert not recorder.open and recorder.saved == [] and h.report["episodes"] == []
    h.until(P.AUTONOMOUS)
    assert h.switch.selected == policy and h.strategy.status()["evaluation"]["episode"] == 1
    h.tick(3)
    h.success = True
    h.tick()
    row = h.report["episodes"][0]
    assert (row["episode"], row["reruns"], row["outcome"]) == (1, 1, "success")
    assert recorder.extras == [{"outcome": "success", "policy": policy, "time_to_success_s": row["time_to_success_s"]}]
    assert h.report["episodes"][0]["dataset_episode"] == 0


def test_exclude_keeps_the_episode_with_its_reason(tmp_path) -> None:
    h = Harness(tmp_path)
    h.until(P.AUTONOMOUS)
    assert h.send("exclude", episode=1, reason="x").outcome == CommandOutcome.INVALID_NOW  # not finished yet
    h.success = True
    h.tick()
    assert h.send("exclude", episode="one", reason="x").outcome == CommandOutcome.BAD_ARGS
    assert h.send("exclude", episode=1, reason="").outcome == CommandOutcome.BAD_ARGS
    assert h.send("exclude", episode=1, reason="scene was not reset").accepted
    row = h.report["episodes"][0]
    assert row["excluded"] and row["exclude_reason"] == "scene was not reset" and row["outcome"] == "success"
    assert sum(p["excluded"] for p in h.report["policies"]) == 1
    assert sum(p["episodes"] for p in h.report["policies"]) == 0


def test_pause_holds_the_reset_countdown_and_counts_interventions(tmp_path) -> None:
    h = Harness(tmp_path, "--strategy.reset_time_s=1")
    h.tick()
    h.tick(10)
    assert h.send("pause").accepted and h.ctx.phase is P.PAUSED
    left = h.strategy.status()["evaluation"]["reset_remaining_s"]
    h.tick(90)
    assert h.ctx.phase is P.PAUSED and h.strategy.status()["evaluation"]["reset_remaining_s"] == left
    assert h.send("resume").accepted and h.ctx.phase is P.RESETTING
    h.until(P.AUTONOMOUS, limit=int(left / DT) + 5)
    h.send("pause")
    h.tick(3)
    assert h.send("resume").accepted and h.ctx.phase is P.AUTONOMOUS  # back into the same episode
    assert h.send("end_reset").outcome == CommandOutcome.INVALID_NOW
    h.success = True
    h.tick()
    assert h.report["episodes"][0]["interventions"] == 1


def test_end_reset_starts_the_episode_early(tmp_path) -> None:
    h = Harness(tmp_path, "--strategy.reset_time_s=100")
    h.tick(2)
    assert h.ctx.phase is P.RESETTING
    assert h.send("end_reset").accepted and h.ctx.phase is P.AUTONOMOUS


def test_stop_mid_episode_keeps_it_as_unknown(tmp_path) -> None:
    h = Harness(tmp_path)
    h.until(P.AUTONOMOUS)
    h.tick(3)
    assert h.send("stop").accepted
    h.until(P.STOPPED)
    row = h.report["episodes"][0]
    assert (row["outcome"], row["outcome_source"]) == ("unknown", "stopped")


def test_estop_in_a_reset_returns_to_the_reset_not_to_the_policy(tmp_path) -> None:
    h = Harness(tmp_path, "--strategy.reset_time_s=1")
    h.tick(3)
    assert h.send("estop").accepted and h.ctx.phase is P.ESTOPPED
    h.tick(60)
    refused = h.send("resume")
    assert not refused.accepted and refused.detail == "clear the E-STOP first (reset)"
    assert h.send("reset").accepted and h.ctx.phase is P.PAUSED  # clearing only holds
    h.tick(3)
    assert h.ctx.phase is P.PAUSED
    assert h.send("resume").accepted and h.ctx.phase is P.RESETTING
    h.tick()
    assert h.ctx.phase is P.RESETTING  # the countdown was held, the policy does not start at once


def test_blind_mode_keeps_an_inference_error_from_naming_the_policy(tmp_path) -> None:
    h = Harness(tmp_path, "--strategy.blind=true", "--strategy.outcome_from=operator", detector=False)
    h.until(P.AUTONOMOUS)
    running = h.strategy.assignment.policies[0]

    def broken(observation: Any) -> Any:
        raise RuntimeError(f"checkpoint of policy {running} is corrupt")

    h.switch.engines[running].next_action = broken
    h.tick()
    assert h.ctx.phase is P.PAUSED and "inference failed" in h.ctx.notice
    assert running not in h.ctx.notice
    assert all(f"policy {running}" not in str(e.data) for e in h.ctx.events.since(0))
