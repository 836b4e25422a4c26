"""What the operator pages say about the commands: the button groups, in the same order on the desktop
command bar and the tablet (a Jinja global, so the templates cannot drift apart), and what Stop will do
(the stop confirmation)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runtime.session import Session

__all__ = ["COMMAND_GROUPS", "command_groups", "stop_plan"]

COMMAND_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Robot", ("pause", "resume", "reset")),
    ("Correction", ("takeover", "handback")),
    ("Episode", ("mark", "save", "discard", "end_episode", "end_reset")),
    ("Data", ("upload",)),
    ("Session", ("stop",)),
)
"""Left to right as an operator reads them: the robot, a correction, the episode, the data, the session."""

APART = frozenset({"estop", "exclude"})
"""E-STOP always stands apart from the other buttons; ``exclude`` needs arguments (the evaluation panel)."""


def command_groups(commands: Iterable[str]) -> list[tuple[str, list[str]]]:
    """``[(group title, [this strategy's commands in it])]``, empty groups left out. A command no group
    names (a new one) goes into a last group ("More"), so every command of the strategy gets a button."""
    have = [name for name in commands if name not in APART]
    groups = [(title, [name for name in names if name in have]) for title, names in COMMAND_GROUPS]
    grouped = {name for _, names in COMMAND_GROUPS for name in names}
    rest = [name for name in have if name not in grouped]
    return [(title, names) for title, names in [*groups, ("More", rest)] if names]


def stop_plan(session: Session) -> dict[str, Any]:
    """What Stop will do in this session, in words, for the stop confirmation (desktop and tablet).

    ``arm`` / ``arm_estopped``: the arm (after an E-STOP it is never moved home, whatever the flag);
    ``data``: the episode in progress, the pending saves, the dataset or the results; ``next``: what the
    operator sees afterwards (the New session page, or nothing when the console exits).
    """
    config = session.config
    if config.return_to_initial_position:
        arm = f"The arm moves back to where it started (about {config.return_duration_s:g} s)."
    else:
        arm = "The arm stays where it is (--return_to_initial_position=false)."
    data: list[str] = []
    recording = session.recording
    strategy = session.strategy.name
    if recording is not None:
        if strategy == "highlight":
            data.append("A marked episode in progress is saved; the unmarked history is dropped.")
        else:
            data.append("The episode in progress is saved.")
        dataset = f"the dataset {recording.recorder.repo_id}"
        if config.dataset is not None and config.dataset.push_to_hub:
            data.append(f"Pending saves finish; {dataset} is closed and uploaded to the Hub.")
        else:
            data.append(f"Pending saves finish; {dataset} is closed (it stays on this computer: uploads are off).")
    elif strategy == "episodic":
        data.append("The evaluation results written so far are kept.")
    else:
        data.append("Nothing is recorded in this session.")
    if config.server.exit_when_stopped:
        after = "Then the console exits (--server.exit_when_stopped): start it again for a new session."
    else:
        after = ("Then this page shows New session: the robot and cameras stay connected, "
                 "and you can start the next session.")
    return {"arm": arm, "arm_estopped": "After an E-STOP the arm stays where it is (it is never moved home).",
            "data": data, "next": after}
