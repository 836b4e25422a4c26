"""The names clients go by in the lease (banners, the Control panel, events), numbered when two collide.

A client picks its name (the page defaults it from the device, e.g. "iPad · Safari"). When another client
already goes by that name, the newcomer's is numbered ("iPad · Safari (2)"), so two tablets of the same kind
stay apart. A client keeps its number while it keeps its name. The book counts each client's open control
sockets: once the last one closes (and the client neither holds nor asks for control) its name is free
again. Clients without a socket (REST scripts) are remembered too, the oldest forgotten beyond a bound.

Not thread-safe on its own: ``OperatorLease`` calls it under its lock.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["MAX_NAME_LENGTH", "NameBook", "clean_name", "numbered_name"]

MAX_NAME_LENGTH = 80
_MAX_IDLE = 64  # names remembered for clients without an open socket; the oldest go first


def clean_name(label: object) -> str:
    """A name on one line, without control characters, at most ``MAX_NAME_LENGTH`` characters ("" if none)."""
    text = label if isinstance(label, str) else ""
    text = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(text.split())[:MAX_NAME_LENGTH]


def numbered_name(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base (2)``, ``base (3)``, ...: the first one not in ``taken``."""
    used = set(taken)
    if base not in used:
        return base
    number = 2
    while f"{base} ({number})" in used:
        number += 1
    return f"{base} ({number})"


@dataclass(slots=True)
class _Entry:
    base: str  # what the client asked for (cleaned; "" for none)
    shown: str  # what everyone sees: base, numbered when another client had it first
    sockets: int = 0  # open control sockets of this client


class NameBook:
    """Client id -> the name it goes by."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def shown(self, client_id: str | None) -> str | None:
        """The name a client goes by, or None when it never named itself (or was forgotten)."""
        entry = self._entries.get(client_id) if client_id is not None else None
        return None if entry is None else entry.shown

    def name(self, client_id: str, label: object, default: str, also_taken: Iterable[str] = ()) -> str:
        """The name ``client_id`` goes by after asking for ``label``: numbered when another client has it.

        No label: the name it had, else ``default`` (not recorded). ``also_taken``: names in use elsewhere
        (the holder's and the requester's, which outlive a socket).
        """
        base = clean_name(label)
        entry = self._entries.get(client_id)
        if not base:
            return entry.shown if entry is not None else default
        if entry is None or entry.base != base:
            taken = [other.shown for other_id, other in self._entries.items() if other_id != client_id]
            entry = _Entry(base, numbered_name(base, [*taken, *also_taken]), 0 if entry is None else entry.sockets)
            self._entries[client_id] = entry
        self._entries.move_to_end(client_id)
        self._trim()
        return entry.shown

    def connect(self, client_id: str, shown: str) -> None:
        """One more open socket for ``client_id`` (named ``shown`` if it had no name yet)."""
        self._entries.setdefault(client_id, _Entry("", shown)).sockets += 1

    def disconnect(self, client_id: str, busy: bool) -> None:
        """One socket fewer; with none left and not ``busy`` (holding or asking for control) the name is free."""
        entry = self._entries.get(client_id)
        if entry is None:
            return
        entry.sockets = max(0, entry.sockets - 1)
        if entry.sockets == 0 and not busy:
            del self._entries[client_id]

    def _trim(self) -> None:
        idle = [client_id for client_id, entry in self._entries.items() if entry.sockets == 0]
        for client_id in idle[: max(0, len(idle) - _MAX_IDLE)]:
            del self._entries[client_id]
