"""Clearing an E-STOP is its own step in every strategy: ``reset`` takes estopped to paused (holding where
the arm is), ``resume`` from estopped is refused with "clear the E-STOP first (reset)", and ``reset`` is
refused in every other phase."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from rollout_console.protocol.commands import Command, CommandOutcome
from rollout_console.protocol.phases import Phase
from rollout_console.strategies.base import (
    ESTOP_CLEAR_FIRST,
    ESTOP_CLEARED_NOTICE,
    ESTOP_NOTICE,
    STRATEGIES,
    BaseStrategy,
    Strategy,
)
from rollout_console.strategies.dagger import DaggerStrategy
from rollout_console.strategies.episodic import EpisodicStrategy
from rollout_console.strategies.highlight import HighlightStrategy
from rollout_console.strategies.recording import Recording
from rollout_console.strategies.sentry import SentryStrategy
from strategy_fakes import FakeRecorder, make_context

P = Phase
RECORDING_FLAGS = ("--dataset.repo_id=t/x", "--dataset.push_to_hub=false", "--return_to_initial_position=false")


def _build(kind: str, tmp_path: Any) -> tuple[Any, Strategy]:
    """A tick context and a strategy of ``kind`` on fake hardware (no recorder work, no threads)."""
    if kind == "base":
        ctx, *_ = make_context("--return_to_initial_position=false")
        return ctx, BaseStrategy()
    if kind == "episodic":
        ctx, *_ = make_context("--strategy.type=episodic", "--return_to_initial_position=false",
                               "--strategy.reset_time_s=0.1", "--strategy.episode_time_s=1")
        return ctx, EpisodicStrategy(ctx.config.strategy, None, ["A"], lambda obs: False, tmp_path / "results")
    ctx, *_ = make_context(f"--strategy.type={kind}", *RECORDING_FLAGS, "--teleop.handover=none")
    recording = Recording(FakeRecorder(), None, ctx.layout, ctx.events, "task", 0, intervention=kind == "dagger")
    cls = {"sentry": SentryStrategy, "highlight": HighlightStrategy, "dagger": DaggerStrategy}[kind]
    return ctx, cls(ctx.config.strategy, recording, ctx.config.fps)


DT = 0.05  # a fake clock: each tick is 50 ms later, however busy the machine is


def _tick(ctx: Any, strategy: Strategy, n: int = 1) -> None:
    for _ in range(n):
        ctx.tick += 1
        ctx.now += DT
        strategy.tick(ctx)


def _send(ctx: Any, strategy: Strategy, name: str) -> Any:
    result = strategy.handle(ctx, Command(name, source="test"))
    return result.result(timeout=5) if hasattr(result, "result") else result


KINDS = ["base", "sentry", "highlight", "dagger", "episodic"]


def test_every_registered_strategy_is_covered_here() -> None:
    assert set(STRATEGIES.names()) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_reset_clears_an_estop_to_paused_and_resume_is_a_second_step(kind: str, tmp_path) -> None:
    ctx, strategy = _build(kind, tmp_path)
    ctx.started_at = time.perf_counter()
    assert "reset" in strategy.commands and "estop" in strategy.commands
    _tick(ctx, strategy, 3)
    assert ctx.phase is not P.STARTING
    assert _send(ctx, strategy, "estop").accepted and ctx.phase is P.ESTOPPED
    assert (ctx.notice, ctx.notice_level) == (ESTOP_NOTICE, "error")  # every page says what comes next
    assert strategy.available(ctx) == sorted({"reset", "stop"} | {n for n in strategy.actions
                                                                  if strategy.action_available(ctx, n)})
    refused = _send(ctx, strategy, "resume")
    assert (refused.accepted, refused.outcome, refused.detail, ctx.phase) == (
        False, CommandOutcome.INVALID_NOW, ESTOP_CLEAR_FIRST, P.ESTOPPED)
    assert ESTOP_CLEAR_FIRST == "clear the E-STOP first (reset)"
    _tick(ctx, strategy, 2)
    cleared = _send(ctx, strategy, "reset")
    assert (cleared.accepted, cleared.outcome, ctx.phase) == (True, CommandOutcome.APPLIED, P.PAUSED)
    held = ctx.hold_target
    assert held is not None, "cleared: it holds the measured position"
    assert (ctx.notice, ctx.notice_level) == (ESTOP_CLEARED_NOTICE, "warning")
    _tick(ctx, strategy, 3)
    assert ctx.phase is P.PAUSED and np.allclose(ctx.hold_target, held)
    again = _send(ctx, strategy, "reset")
    assert (again.accepted, again.outcome, ctx.phase) == (False, CommandOutcome.INVALID_NOW, P.PAUSED)
    assert "reset" in again.detail and "estopped" in again.detail  # says when it is valid
    assert _send(ctx, strategy, "resume").accepted and ctx.phase is not P.PAUSED
    assert ctx.notice is None, "resumed (to the episode, the reset or the outcome): the E-STOP is behind"


@pytest.mark.parametrize("kind", KINDS)
def test_stop_from_estopped_drops_the_estop_notice(kind: str, tmp_path) -> None:
    ctx, strategy = _build(kind, tmp_path)
    _tick(ctx, strategy, 3)
    assert _send(ctx, strategy, "estop").accepted and ctx.notice == ESTOP_NOTICE
    assert _send(ctx, strategy, "stop").accepted and ctx.phase is P.STOPPING
    assert ctx.notice is None


@pytest.mark.parametrize("kind", KINDS)
def test_reset_is_only_valid_while_estopped(kind: str, tmp_path) -> None:
    ctx, strategy = _build(kind, tmp_path)
    assert {phase for (phase, name) in strategy.transitions if name == "reset"} == {P.ESTOPPED}
    assert (P.ESTOPPED, "resume") not in strategy.transitions
    assert strategy.transitions[(P.ESTOPPED, "reset")] is P.PAUSED
    ctx.started_at = time.perf_counter()
    _tick(ctx, strategy, 3)
    before = ctx.phase
    refused = _send(ctx, strategy, "reset")
    assert (refused.accepted, refused.outcome, ctx.phase) == (False, CommandOutcome.INVALID_NOW, before)


def test_an_episodic_reset_does_not_count_a_second_intervention(tmp_path) -> None:
    ctx, strategy = _build("episodic", tmp_path)
    assert isinstance(strategy, EpisodicStrategy)
    ctx.started_at = time.perf_counter()
    for _ in range(200):
        if ctx.phase is P.AUTONOMOUS:
            break
        _tick(ctx, strategy)
    assert ctx.phase is P.AUTONOMOUS and strategy.record is not None
    assert _send(ctx, strategy, "estop").accepted
    assert strategy.record.interventions == 1
    assert _send(ctx, strategy, "reset").accepted and ctx.phase is P.PAUSED
    assert strategy.record.interventions == 1
    assert _send(ctx, strategy, "resume").accepted and ctx.phase is P.AUTONOMOUS
