"""ActionInterpolator: N linear sub-steps per policy action, policy cadence, reset, first action, hold."""

from __future__ import annotations

import numpy as np
import pytest

from rollout_console.inference.interpolator import ActionInterpolator


def run(interp: ActionInterpolator, actions: list[np.ndarray | None], command_ticks: int):  # noqa: ANN201
    feed = iter(actions)
    commands, policy_ticks = [], []
    for tick in range(command_ticks):
        command, was_policy_tick = interp.step(lambda: next(feed))
        commands.append(command)
        if was_policy_tick:
            policy_ticks.append(tick)
    return commands, policy_ticks


def test_cadence_is_one_policy_action_every_n_command_ticks() -> None:
    interp = ActionInterpolator(3)
    assert interp.enabled and interp.control_period(30.0) == pytest.approx(1 / 90)
    actions = [np.array([float(10 * i)]) for i in range(5)]
    commands, policy_ticks = run(interp, actions, 15)
    assert policy_ticks == [0, 3, 6, 9, 12]  # rows recorded = policy ticks, not command ticks
    values = [float(c[0]) for c in commands]
    # first action held (nothing to ramp from), then linear thirds ending exactly on each action
    np.testing.assert_allclose(values, [0, 0, 0, 10 / 3, 20 / 3, 10, 40 / 3, 50 / 3, 20, 70 / 3, 80 / 3, 30,
                                        100 / 3, 110 / 3, 40], atol=1e-5)
    assert interp.policy_ticks == 5 and interp.command_ticks == 15


def test_multiplier_one_passes_actions_through() -> None:
    interp = ActionInterpolator(1)
    assert not interp.enabled
    commands, policy_ticks = run(interp, [np.array([1.0]), np.array([5.0])], 2)
    assert policy_ticks == [0, 1] and [c[0] for c in commands] == [1.0, 5.0]


def test_starvation_holds_the_last_command_then_ramps_from_it() -> None:
    interp = ActionInterpolator(2)
    commands, policy_ticks = run(interp, [np.array([0.0]), np.array([4.0]), None, np.array([8.0])], 8)
    assert policy_ticks == [0, 2, 4, 6]
    assert [float(c[0]) for c in commands] == [0.0, 0.0, 2.0, 4.0, 4.0, 4.0, 6.0, 8.0]
    assert interp.held_ticks == 2


def test_nothing_is_commanded_before_the_first_action() -> None:
    interp = ActionInterpolator(2)
    commands, _ = run(interp, [None, np.array([3.0])], 4)
    assert commands[0] is None and commands[1] is None
    assert [float(c[0]) for c in commands[2:]] == [3.0, 3.0]


def test_reset_drops_the_plan_and_can_start_from_the_measured_pose() -> None:
    interp = ActionInterpolator(4)
    run(interp, [np.array([0.0])], 2)  # half-way through the first action's sub-steps
    assert not interp.needs_action()
    interp.reset(start=np.array([10.0]))
    assert interp.needs_action()
    commands, _ = run(interp, [np.array([18.0])], 4)
    assert [float(c[0]) for c in commands] == [12.0, 14.0, 16.0, 18.0]


def test_misuse_is_an_error() -> None:
    with pytest.raises(ValueError):
        ActionInterpolator(0)
    with pytest.raises(ValueError):
        ActionInterpolator(1.5)  # type: ignore[arg-type]
    interp = ActionInterpolator(2)
    with pytest.raises(RuntimeError):
        interp.next_command()
    interp.add(np.array([1.0]))
    with pytest.raises(RuntimeError):
        interp.add(np.array([2.0]))
