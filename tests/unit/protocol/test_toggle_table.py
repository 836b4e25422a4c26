"""One toggle table: the pedal decides from it and the server publishes it for the page's hotkeys."""

from __future__ import annotations

import json

import pytest
from rollout_console.inputs.pedal import decide
from rollout_console.protocol.commands import COMMANDS, validate_args
from rollout_console.protocol.phases import Phase
from rollout_console.protocol.toggles import TOGGLES, toggles_table

P = Phase


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("action", sorted(TOGGLES))
def test_the_pedal_decides_exactly_what_the_published_table_says(action: str, phase: Phase) -> None:
    published = json.loads(json.dumps(toggles_table()))  # what the page receives in hello
    step = published[action]["phases"].get(phase.value)
    decision = decide(action, phase)
    if step is None:
        assert decision.command is None and decision.reason
    else:
        assert decision.command == step["command"] and (decision.args or {}) == step["args"]


def test_every_step_is_a_command_with_valid_arguments() -> None:
    for toggle in TOGGLES.values():
        assert toggle.needs is None or toggle.needs in COMMANDS
        for step in toggle.steps.values():
            assert validate_args(step.command, dict(step.args)) == dict(step.args)


def test_clearing_an_estop_and_resuming_are_two_presses() -> None:
    expected = {"pause_resume": "reset", "takeover_handback": None, "upload": "upload"}
    for name, toggle in TOGGLES.items():
        step = toggle.step(P.ESTOPPED)
        assert (step.command if step else None) == expected[name], name
    assert TOGGLES["pause_resume"].step(P.PAUSED).command == "resume"  # the second press
    for toggle in TOGGLES.values():  # no press leaves estopped for motion
        assert all(step.command not in ("resume", "takeover") for phase, step in toggle.steps.items()
                   if phase is P.ESTOPPED)
    refused = decide("takeover_handback", P.ESTOPPED)
    assert refused.command is None and refused.reason.startswith("estop is active") and "clear it" in refused.reason


def test_autonomous_takeover_and_awaiting_outcome_labels_are_in_the_one_table() -> None:
    assert TOGGLES["takeover_handback"].step(P.AUTONOMOUS).command == "takeover"
    labels = {name: dict(t.step(P.AWAITING_OUTCOME).args) for name, t in TOGGLES.items()}
    assert labels == {"pause_resume": {"outcome": "success"}, "takeover_handback": {"outcome": "failure"},
                      "upload": {"outcome": "unknown"}}
