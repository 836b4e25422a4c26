"""What each toggle input (a foot pedal, a page hotkey) means in each phase: one table, as data.

The server only ever receives explicit commands; a toggle is resolved from the phase at the moment of the
press by the input that owns it. The pedal (``inputs/pedal.py``) reads ``TOGGLES`` directly; the page
reads the same table from the WebSocket ``hello`` (``toggles_table()``), so a pedal and a hotkey always
send the same command in the same phase.

Rules the table encodes (and ``tests/unit/protocol`` checks):
- no single press takes an estop back to motion: while estopped ``pause_resume`` sends ``reset`` (the E-STOP
  is cleared, the arm holds: ``paused``) and only a second press sends ``resume``, so clearing and restarting
  are two deliberate presses; ``takeover_handback`` does nothing then (it says why), ``upload`` uploads;
- while an episode awaits its outcome (episodic), each toggle labels it, so hands stay on the robot;
- ``upload`` never moves the robot: it is sent in every other phase and the session decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .phases import Phase

__all__ = ["TOGGLES", "Toggle", "ToggleStep", "toggles_table"]

P = Phase


@dataclass(frozen=True, slots=True)
class ToggleStep:
    """The explicit command (and its arguments) a toggle stands for in one phase."""

    command: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "args": dict(self.args)}


@dataclass(frozen=True, slots=True)
class Toggle:
    """One toggle: the label an operator reads and its command per phase (absent: it does nothing).

    ``needs`` names the command a strategy must have for the toggle to be offered at all (None: always).
    """

    name: str
    label: str
    steps: Mapping[Phase, ToggleStep]
    needs: str | None = None

    def step(self, phase: Phase | str) -> ToggleStep | None:
        return self.steps.get(Phase(phase))


def _outcome(label: str) -> ToggleStep:
    return ToggleStep("save", MappingProxyType({"outcome": label}))


_PAUSE, _RESUME, _RESET, _TAKEOVER, _HANDBACK, _UPLOAD = (
    ToggleStep(name) for name in ("pause", "resume", "reset", "takeover", "handback", "upload"))

_TABLE: tuple[Toggle, ...] = (
    # Correcting + pause asks the strategy to freeze the arm; it may refuse, and the refusal is reported.
    Toggle("pause_resume", "Pause / resume", MappingProxyType({
        P.STARTING: _PAUSE, P.AUTONOMOUS: _PAUSE, P.CORRECTING: _PAUSE, P.PAUSED: _RESUME,
        P.ESTOPPED: _RESET,  # clears the E-STOP only (-> paused, holding); the next press resumes
        P.RESETTING: ToggleStep("end_reset"),  # episodic: the scene is back, start the next episode
        P.AWAITING_OUTCOME: _outcome("success"),
    })),
    # Autonomous + takeover is sent so a strategy that allows a direct intervention can accept it.
    Toggle("takeover_handback", "Take over / hand back", MappingProxyType({
        P.AUTONOMOUS: _TAKEOVER, P.PAUSED: _TAKEOVER, P.CORRECTING: _HANDBACK,
        P.AWAITING_OUTCOME: _outcome("failure"),
    }), needs="takeover"),
    Toggle("upload", "Upload", MappingProxyType({
        **{phase: _UPLOAD for phase in Phase if phase is not P.AWAITING_OUTCOME},
        P.AWAITING_OUTCOME: _outcome("unknown"),
    }), needs="upload"),
)

TOGGLES: Mapping[str, Toggle] = MappingProxyType({toggle.name: toggle for toggle in _TABLE})


def toggles_table() -> dict[str, Any]:
    """The table as JSON for the page: ``{toggle: {"label", "needs", "phases": {phase: {"command", "args"}}}}``."""
    return {toggle.name: {"label": toggle.label, "needs": toggle.needs,
                          "phases": {phase.value: step.to_dict() for phase, step in toggle.steps.items()}}
            for toggle in _TABLE}
