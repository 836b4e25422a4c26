"""How the operator pages lay out the command buttons: the same groups, in the same order, on the desktop
command bar and the tablet (a Jinja global, so the templates cannot drift apart)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["COMMAND_GROUPS", "command_groups"]

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
