"""One registry pattern, strategy facts as class attributes, one transition method, no duck typing by string.

The registries are read directly; the seams (no ``ctx.extra``, no strategy names compared as strings, phase
changes only through ``Strategy.transition``) are checked by reading the source with ``ast``, so a new
module that falls back to the old habits fails here.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest
from rollout_console.config import InferenceConfig, PolicyConfig, StrategyConfig, load_config
from rollout_console.config.base import StrategyConfigBase
from rollout_console.errors import ConfigError
from rollout_console.hardware.protocols import DrivableLeader, Teleoperator
from rollout_console.hardware.registry import ROBOTS, TELEOPS
from rollout_console.hardware.sim.leader import SimLeaderArm
from rollout_console.inference.factory import ENGINES
from rollout_console.policies.registry import POLICIES
from rollout_console.protocol.commands import Command
from rollout_console.protocol.phases import Phase
from rollout_console.registry import Registry
from rollout_console.strategies import STRATEGIES, BaseStrategy, TickContext
from strategy_fakes import make_context

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "rollout_console"
KINDS = [(STRATEGIES, "--strategy.type"), (ROBOTS, "--robot.type"), (TELEOPS, "--teleop.type"),
         (POLICIES, "--policy.type"), (ENGINES, "--inference.type")]


def _union_members(annotated: object) -> list[type]:
    """The model classes of a discriminated-union config alias (Annotated[A | Annotated[B, Tag] ..., ...])."""
    members: list[type] = []
    for arg in typing.get_args(typing.get_args(annotated)[0]):
        inner = typing.get_args(arg)[0] if typing.get_origin(arg) is typing.Annotated else arg
        members.append(inner)
    return members


def _type_literal(model: type) -> str:
    return str(model.model_fields["type"].default)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the Registry class


def test_registry_registers_gets_and_lists_in_order() -> None:
    registry: Registry[int] = Registry("widget", "--widget.type")
    assert registry.register("a")(1) == 1
    registry.register("b")(2)
    assert registry.get("b") == 2 and registry.names() == ("a", "b") and "a" in registry and len(registry) == 2
    assert list(registry) == ["a", "b"]
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("a")(3)
    assert registry.get("a") == 1, "a refused registration changes nothing"


@pytest.mark.parametrize(("registry", "flag"), KINDS, ids=[flag for _, flag in KINDS])
def test_every_kind_refuses_an_unknown_name_the_same_way(registry: Registry[object], flag: str) -> None:
    assert isinstance(registry, Registry) and registry.flag == flag
    with pytest.raises(ConfigError) as caught:
        registry.get("no_such_thing")
    assert caught.value.flag == flag
    message = str(caught.value)
    assert message.startswith(f"{flag}: unknown ") and "'no_such_thing'" in message
    assert f"(known: {', '.join(registry.names())})" in message


# ---------------------------------------------------------------- every configurable name is registered


def test_every_strategy_policy_and_engine_type_of_the_config_is_registered() -> None:
    strategies = {_type_literal(model) for model in _union_members(StrategyConfig)}
    policies = {_type_literal(model) for model in _union_members(PolicyConfig)}
    engines = {_type_literal(model) for model in _union_members(InferenceConfig)}
    assert strategies == set(STRATEGIES.names())
    assert policies == set(POLICIES.names())
    assert engines == set(ENGINES.names())
    assert set(ROBOTS.names()) == set(TELEOPS.names()) == {"sim", "lerobot"}


def test_strategy_classes_and_their_configs_state_the_same_facts() -> None:
    configs = {_type_literal(model): model for model in _union_members(StrategyConfig)}
    for name in STRATEGIES:
        strategy, config = STRATEGIES.get(name), configs[name]
        assert issubclass(config, StrategyConfigBase)
        assert strategy.name == name
        assert strategy.needs_leader == config.needs_leader, name
        assert not strategy.records_intervention or config.dataset_use != "none", name
    assert [name for name in STRATEGIES if STRATEGIES.get(name).needs_leader] == ["dagger"]


def test_config_rules_come_from_the_class_facts() -> None:
    with pytest.raises(ConfigError, match="--strategy.type=sentry records episodes"):
        load_config(["--strategy.type=sentry"])
    with pytest.raises(ConfigError, match="--strategy.type=base records nothing"):
        load_config(["--dataset.repo_id=a/b"])
    config = load_config(["--strategy.type=episodic"])  # records only when a dataset is given
    assert config.dataset is None and config.strategy.dataset_use == "optional"


# ---------------------------------------------------------------- protocols instead of hasattr


def test_the_sim_leader_is_a_drivable_leader() -> None:
    leader = load_config([]).teleop
    assert leader is not None
    arm = SimLeaderArm(leader)  # type: ignore[arg-type]
    assert isinstance(arm, Teleoperator) and isinstance(arm, DrivableLeader)


# ---------------------------------------------------------------- one transition method


def test_transition_runs_the_side_effects_before_announcing_the_phase() -> None:
    seen: list[str] = []

    class Watched(BaseStrategy):
        def enter(self, ctx: TickContext, target: Phase, command: Command | None) -> None:
            seen.append(f"enter {target.value} while {ctx.phase.value}")
            super().enter(ctx, target, command)

    ctx, _, _, engine = make_context()
    ctx.phase = Phase.AUTONOMOUS
    strategy = Watched()
    ctx.events.subscribe(lambda event: seen.append(f"event {event.data['phase']}")
                         if event.kind == "phase_changed" else None)
    strategy.handle(ctx, Command("pause", source="pedal"))
    assert seen == ["enter paused while autonomous", "event paused"]
    assert engine.paused and ctx.phase is Phase.PAUSED


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == name]


def test_strategies_change_phase_only_through_transition() -> None:
    offenders = []
    for path in sorted((PACKAGE / "strategies").glob("*.py")):
        tree = ast.parse(path.read_text())
        allowed: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "transition" and path.name == "base.py":
                allowed |= {call.lineno for call in _calls(node, "set_phase")}
        offenders += [f"{path.name}:{call.lineno}" for call in _calls(tree, "set_phase") if call.lineno not in allowed]
        offenders += [f"{path.name}:{call.lineno} calls enter()" for call in _calls(tree, "enter")
                      if not (path.name == "base.py" and call.lineno in _transition_lines(tree))
                      and not _inside_enter(tree, call)]
    assert not offenders, f"phase changes outside Strategy.transition: {offenders}"


def _transition_lines(tree: ast.AST) -> set[int]:
    return {call.lineno for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "transition"
            for call in _calls(node, "enter")}


def _inside_enter(tree: ast.AST, call: ast.Call) -> bool:
    """``super().enter(...)`` inside an ``enter`` override chains the side effects; that is not a transition."""
    return any(isinstance(node, ast.FunctionDef) and node.name == "enter" and call in list(ast.walk(node))
               for node in ast.walk(tree))


# ---------------------------------------------------------------- no duck typing by string


def test_the_tick_context_has_typed_fields_and_no_bag_of_extras() -> None:
    fields = TickContext.__dataclass_fields__
    assert "extra" not in fields
    assert {"policy_tick", "policy_action", "handover", "announced_pending_saves"} <= set(fields)
    for path in sorted(PACKAGE.rglob("*.py")):
        assert ".extra[" not in path.read_text() and "ctx.extra" not in path.read_text(), path


def test_no_strategy_name_is_compared_as_a_string() -> None:
    names = set(STRATEGIES.names())
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            compares_name = any(isinstance(side, ast.Attribute) and side.attr in ("type", "name") for side in sides)
            literals = {side.value for side in sides if isinstance(side, ast.Constant) and isinstance(side.value, str)}
            for side in sides:
                if isinstance(side, ast.Set | ast.Tuple | ast.List):
                    literals |= {elt.value for elt in side.elts if isinstance(elt, ast.Constant)}
            if compares_name and literals & names:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not found, f"strategy names compared as strings (use a strategy class attribute): {found}"


def test_make_test_runs_the_type_check() -> None:
    root = PACKAGE.parents[1]
    makefile = (root / "Makefile").read_text()
    test_core = next(line for line in makefile.splitlines() if line.startswith("test-core:"))
    assert "typecheck" in test_core.split(":", 1)[1].split()
    assert "\ntypecheck:" in makefile and "-m mypy" in makefile
    assert "[tool.mypy]" in (root / "pyproject.toml").read_text()
