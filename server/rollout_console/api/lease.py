"""Operator lease: which client controls the robot, kept alive by heartbeats (pure logic, no web imports).

Semantics (what an operator at a robot expects):

* One client at a time holds control. ``acquire`` takes a free lease (or renews one's own); a lease held
  by someone else is refused with a reason naming the holder, unless ``force=True`` (a take-over: any
  operator may do it, the previous holder's page is told who took control, and a moving robot pauses).
* The holder sends ``heartbeat`` every ``heartbeat_s``; ``timeout_s`` after the last one the lease
  lapses. A lapse is reported to ``on_change`` (from the watcher thread, within ``pause_within_s / 10``)
  so the integrator pauses a moving robot. A lapsed holder does not get control back by heartbeating: the
  page must ``acquire`` again, deliberately, and the robot stays paused until someone resumes it.
* Polite hand-over: another client calls ``request``; the holder sees it in ``snapshot`` and calls
  ``respond(accept=True)`` (or the holder hands control directly with ``transfer``). An agreed hand-over
  does not pause. Unanswered requests expire after ``request_timeout_s``. Asking for a free lease gets it.
* ``release`` gives control up (closing the tab); while the robot moves that pauses it, like a lapse.
* ``authorize``: the pedal (and other inputs at the robot) always counts as the operator; ``estop`` is
  always allowed for any authenticated client (viewers included); viewers may not send anything else;
  with nobody holding the lease any operator's command is allowed (scripts need no lease); otherwise only
  the holder's commands are, and the refusal names the holder. Commands do not renew the lease.
* Client ids are secrets of their page (a random id per tab): snapshots show a short public tag (a hash)
  and the label instead, so another client cannot heartbeat on the holder's behalf by reading the status.
* Names: a label is the name a client picked; two clients with one name are numbered ("iPad · Safari (2)"),
  see ``lease_names``. ``connect``/``disconnect`` (the control socket) let a name be reused once its
  client's last socket is gone.
* ``snapshot(viewer)["notice"]`` says why the viewer does not hold control (lost it, was refused) only
  while the situation it describes still holds: once the holder changes, the notice is gone.

``on_change`` callbacks run outside the lease's lock on the thread that caused the change (the watcher
thread for lapses); they may run concurrently and carry a sequence number. Use ``submit_nowait`` in them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

from ..config.inputs import LeaseConfig
from .lease_names import NameBook, clean_name, numbered_name

__all__ = [
    "CLIENT_ID_MAX_LENGTH",
    "CLIENT_ID_PATTERN",
    "CLIENT_ID_RULE",
    "Authorization",
    "LeaseChange",
    "LeaseChangeKind",
    "LeaseResult",
    "OperatorLease",
    "client_id_problem",
    "numbered_name",
    "public_id",
]

log = logging.getLogger(__name__)

_MAX_ID = 128


class LeaseChangeKind(StrEnum):
    ACQUIRED = "acquired"
    RELEASED = "released"
    TRANSFERRED = "transferred"
    FORCED = "forced"
    LAPSED = "lapsed"
    REQUESTED = "requested"
    DENIED = "denied"
    REQUEST_EXPIRED = "request_expired"


class LeaseResult(NamedTuple):
    """Outcome of a lease call; ``status`` is the HTTP status to answer with (200, 409 or 423)."""

    ok: bool
    reason: str
    holder: dict[str, Any] | None
    status: int = 200


class Authorization(NamedTuple):
    """Whether a command may go to the session; ``reason`` is shown to the client when refused."""

    allowed: bool
    reason: str
    holder: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class LeaseChange:
    """Something happened to the lease; ``pause`` says the config wants a moving robot paused now."""

    seq: int
    kind: LeaseChangeKind
    previous: dict[str, Any] | None
    holder: dict[str, Any] | None
    detail: str
    at: float
    pause: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "kind": self.kind.value,
            "previous": self.previous,
            "holder": self.holder,
            "detail": self.detail,
            "pause": self.pause,
        }


@dataclass(slots=True)
class _Holder:
    client_id: str
    label: str
    since: float
    since_wall: float
    expires_at: float


@dataclass(slots=True)
class _Request:
    client_id: str
    label: str
    expires_at: float


def public_id(client_id: str) -> str:
    """A short, stable tag for a client id that does not reveal the id itself."""
    return hashlib.sha256(client_id.encode()).hexdigest()[:10]


CLIENT_ID_MAX_LENGTH = _MAX_ID

CLIENT_ID_RULE = f"1 to {_MAX_ID} visible ASCII characters, no spaces or control characters"
"""The rule every client id (``X-Client-Id``, ``?client=``, ``to``) follows; error replies quote it."""

CLIENT_ID_PATTERN = f"^[!-~]{{1,{_MAX_ID}}}$"
"""``CLIENT_ID_RULE`` as a regular expression (published in the OpenAPI)."""

_VISIBLE_ASCII = frozenset(chr(code) for code in range(0x21, 0x7F))


def client_id_problem(client_id: object) -> str | None:
    """None for a valid client id, otherwise the reason (naming the rule) it is refused."""
    if not isinstance(client_id, str) or not client_id:
        return f"a client id is required: {CLIENT_ID_RULE}"
    if len(client_id) > _MAX_ID:
        return f"client id is {len(client_id)} characters long; it must be {CLIENT_ID_RULE}"
    bad = next((char for char in client_id if char not in _VISIBLE_ASCII), None)
    if bad is not None:
        return f"client id contains {bad!r}; it must be {CLIENT_ID_RULE}"
    return None


def _check_id(client_id: str | None) -> str:
    problem = client_id_problem(client_id)
    if problem is not None:
        raise ValueError(f"lease: {problem}")
    return client_id  # type: ignore[return-value]


class OperatorLease:
    """Thread-safe lease with an injectable monotonic clock and an optional watcher thread."""

    def __init__(
        self,
        config: LeaseConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        on_change: Callable[[LeaseChange], None] | None = None,
        local_sources: Iterable[str] = ("pedal", "keyboard"),
    ) -> None:
        self.config = config or LeaseConfig()
        self._clock = clock
        self._wall = wall_clock
        self._listeners: list[Callable[[LeaseChange], None]] = [on_change] if on_change else []
        self.local_sources = frozenset(local_sources)
        self._lock = threading.Lock()
        self._holder: _Holder | None = None
        self._request: _Request | None = None
        self._seq = 0
        self._last: LeaseChange | None = None
        # client id -> (why it no longer holds control, the holder's id then): shown while that holder holds
        self._lost: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self._names = NameBook()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add_listener(self, callback: Callable[[LeaseChange], None]) -> None:
        self._listeners.append(callback)

    # ---------------------------------------------------------------- operations

    def acquire(self, client_id: str, label: str | None = None, *, force: bool = False) -> LeaseResult:
        """Take control if free (or renew one's own); ``force`` takes it from another holder."""
        client_id = _check_id(client_id)
        with self._lock:
            now, changes = self._clock(), self._expire()
            holder = self._holder
            if holder is not None and holder.client_id == client_id:
                holder.expires_at = now + self.config.timeout_s
                if clean_name(label):
                    holder.label = self._name(client_id, label)
                result = LeaseResult(True, "you hold control", self._public(holder, now))
            elif holder is not None and not force:
                result = LeaseResult(False, self._held_by(holder, now), self._public(holder, now), 423)
            else:
                new = self._grant(client_id, label, now)
                if holder is None:
                    changes.append(
                        self._change(LeaseChangeKind.ACQUIRED, None, new, f"{new.label} took control")
                    )
                else:
                    detail = f"{new.label} took control from {holder.label} (forced)"
                    self._forget(holder.client_id, f"{new.label} took control from you")
                    changes.append(self._change(LeaseChangeKind.FORCED, holder, new, detail))
                result = LeaseResult(True, "you hold control", self._public(new, now))
        self._emit(changes)
        return result

    def heartbeat(self, client_id: str) -> LeaseResult:
        """Renew the holder's lease; anyone else is told why they do not hold it."""
        client_id = _check_id(client_id)
        with self._lock:
            now, changes = self._clock(), self._expire()
            holder = self._holder
            if holder is not None and holder.client_id == client_id:
                holder.expires_at = now + self.config.timeout_s
                result = LeaseResult(True, "you hold control", self._public(holder, now))
            else:
                result = LeaseResult(
                    False, self._not_yours(client_id, holder, now), self._public(holder, now), 409
                )
        self._emit(changes)
        return result

    def release(self, client_id: str) -> LeaseResult:
        """Give control up; releasing a lease one does not hold is a harmless no-op."""
        client_id = _check_id(client_id)
        with self._lock:
            now, changes = self._clock(), self._expire()
            holder = self._holder
            if holder is None or holder.client_id != client_id:
                result = LeaseResult(True, "you do not hold control", self._public(holder, now))
            else:
                self._holder, self._request = None, None
                self._forget(client_id, "you released control")
                pause = self.config.pause_on_release
                changes.append(
                    self._change(
                        LeaseChangeKind.RELEASED,
                        holder,
                        None,
                        f"{holder.label} released control",
                        pause=pause,
                    )
                )
                result = LeaseResult(True, "released", None)
        self._emit(changes)
        return result

    def request(self, client_id: str, label: str | None = None) -> LeaseResult:
        """Ask the holder for control (granted at once when nobody holds it); the latest request wins."""
        client_id = _check_id(client_id)
        with self._lock:
            now, changes = self._clock(), self._expire()
            holder = self._holder
            if holder is None:
                new = self._grant(client_id, label, now)
                changes.append(self._change(LeaseChangeKind.ACQUIRED, None, new, f"{new.label} took control"))
                result = LeaseResult(True, "you hold control", self._public(new, now))
            elif holder.client_id == client_id:
                result = LeaseResult(True, "you hold control", self._public(holder, now))
            else:
                previous = self._request
                self._request = _Request(
                    client_id, self._name(client_id, label), now + self.config.request_timeout_s
                )
                if previous is not None and previous.client_id != client_id:
                    self._forget(previous.client_id, f"{self._request.label} asked for control after you")
                detail = f"{self._request.label} asks {holder.label} for control"
                changes.append(self._change(LeaseChangeKind.REQUESTED, holder, holder, detail))
                result = LeaseResult(
                    False,
                    f"asked {holder.label} for control; waiting for an answer",
                    self._public(holder, now),
                    423,
                )
        self._emit(changes)
        return result

    def respond(self, client_id: str, accept: bool) -> LeaseResult:
        """The holder answers the pending request: accept hands control over, otherwise it is denied."""
        client_id = _check_id(client_id)
        with self._lock:
            now, changes = self._clock(), self._expire()
            holder, pending = self._holder, self._request
            if holder is None or holder.client_id != client_id:
                result = LeaseResult(
                    False, self._not_yours(client_id, holder, now), self._public(holder, now), 409
                )
            elif pending is None:
                result = LeaseResult(False, "nobody is asking for control", self._public(holder, now), 409)
            elif accept:
                result = self._hand_over(holder, pending.client_id, pending.label, now, changes)
            else:
                self._request = None
                self._forget(pending.client_id, f"{holder.label} kept control")
                changes.append(
                    self._change(
                        LeaseChangeKind.DENIED,
                        holder,
                        holder,
                        f"{holder.label} kept control ({pending.label} asked)",
                    )
                )
                result = LeaseResult(
                    True, f"kept control; {pending.label} was told", self._public(holder, now)
                )
        self._emit(changes)
        return result

    def transfer(self, client_id: str, to_client_id: str, label: str | None = None) -> LeaseResult:
        """The holder hands control directly to another client (e.g. the tablet next to the robot)."""
        client_id, to_client_id = _check_id(client_id), _check_id(to_client_id)
        with self._lock:
            now, changes = self._clock(), self._expire()
            holder = self._holder
            if holder is None or holder.client_id != client_id:
                result = LeaseResult(
                    False, self._not_yours(client_id, holder, now), self._public(holder, now), 409
                )
            elif to_client_id == client_id:
                result = LeaseResult(True, "you hold control", self._public(holder, now))
            else:
                result = self._hand_over(holder, to_client_id, label, now, changes)
        self._emit(changes)
        return result

    def name(self, client_id: str, label: str | None) -> str:
        """Name (or rename) a client without taking control; returns the name shown (numbered if taken)."""
        client_id = _check_id(client_id)
        with self._lock:
            shown = self._name(client_id, label)
            self._rename_everywhere(client_id, shown)
        return shown

    def connect(self, client_id: str, label: str | None = None) -> str:
        """A control socket of ``client_id`` opened (with the name it asks for); returns its name."""
        client_id = _check_id(client_id)
        with self._lock:
            shown = self._name(client_id, label)
            self._names.connect(client_id, shown)
            self._rename_everywhere(client_id, shown)
        return shown

    def disconnect(self, client_id: str) -> None:
        """A control socket closed; with the client's last one gone its name is free for others."""
        with self._lock:
            busy = (self._holder is not None and self._holder.client_id == client_id) or (
                self._request is not None and self._request.client_id == client_id)
            self._names.disconnect(client_id, busy)

    def check(self, now: float | None = None) -> list[LeaseChange]:
        """Detect a lapse (and an expired request) at ``now``; report them to the listeners, return them."""
        with self._lock:
            changes = self._expire(now)
        self._emit(changes)
        return changes

    # ------------------------------------------------------------------- queries

    def authorize(
        self, client_id: str | None, command: str, source: str = "api", role: str = "operator"
    ) -> Authorization:
        """May this command from this client go to the session now? See the module docstring."""
        if source.split(":", 1)[0] in self.local_sources:
            return Authorization(True, f"the {source} is at the robot and counts as the operator", None)
        with self._lock:
            now, changes = self._clock(), self._expire()
            holder = self._holder
            public = self._public(holder, now)
        self._emit(changes)
        if command == "estop":
            return Authorization(True, "estop is always allowed", public)
        if role != "operator":
            return Authorization(
                False,
                "viewers cannot send commands (only estop); open the console with the "
                "operator token to control the robot",
                public,
            )
        if holder is None:
            return Authorization(True, "nobody holds control", None)
        if client_id is not None and holder.client_id == client_id:
            return Authorization(True, "you hold control", public)
        return Authorization(False, self._held_by(holder, now), public)

    def holds(self, client_id: str) -> bool:
        """Whether ``client_id`` holds control now (a due lapse is detected and reported first)."""
        with self._lock:
            changes = self._expire()
            holder = self._holder
        self._emit(changes)
        return holder is not None and holder.client_id == client_id

    def snapshot(self, viewer_id: str | None = None, now: float | None = None) -> dict[str, Any]:
        """JSON-ready state for the page; ``yours`` tells ``viewer_id``'s page whether it holds control."""
        with self._lock:
            changes = self._expire(now)
            now = self._clock() if now is None else now
            holder, pending, last = self._holder, self._request, self._last
            snap = {
                "holder": self._public(holder, now),
                "yours": holder is not None and viewer_id is not None and holder.client_id == viewer_id,
                "request": None
                if pending is None
                else {
                    "id": public_id(pending.client_id),
                    "label": pending.label,
                    "yours": viewer_id is not None and pending.client_id == viewer_id,
                    "expires_in_s": round(max(0.0, pending.expires_at - now), 3),
                },
                "notice": self._notice(viewer_id, holder),
                "name": self._names.shown(viewer_id),
                "timeout_s": self.config.timeout_s,
                "heartbeat_s": self.config.heartbeat_s,
                "last_change": None
                if last is None
                else {"seq": last.seq, "kind": last.kind.value, "detail": last.detail},
            }
        self._emit(changes)
        return snap

    # -------------------------------------------------------------------- watcher

    def start(self) -> None:
        """Start the watcher thread that calls ``check`` every ``config.check_interval_s``."""
        if self._thread is not None:
            raise RuntimeError("lease watcher already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="lease-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _watch(self) -> None:
        interval = self.config.check_interval_s
        while not self._stop.wait(interval):
            try:
                self.check()
            except Exception:  # the watcher is a safety mechanism: it must outlive any bug
                log.exception("lease: check failed")

    # ------------------------------------------------------------------ internals (call with the lock held)

    def _grant(self, client_id: str, label: str | None, now: float) -> _Holder:
        self._holder = _Holder(
            client_id, self._name(client_id, label), now, self._wall(), now + self.config.timeout_s
        )
        self._lost.pop(client_id, None)
        if self._request is not None and self._request.client_id == client_id:
            self._request = None
        return self._holder

    def _hand_over(
        self, holder: _Holder, to_client_id: str, label: str | None, now: float, changes: list[LeaseChange]
    ) -> LeaseResult:
        self._request = None
        new = self._grant(to_client_id, label, now)
        self._forget(holder.client_id, f"you handed control to {new.label}")
        changes.append(
            self._change(
                LeaseChangeKind.TRANSFERRED, holder, new, f"{holder.label} handed control to {new.label}"
            )
        )
        return LeaseResult(True, f"handed control to {new.label}", self._public(new, now))

    def _expire(self, now: float | None = None) -> list[LeaseChange]:
        now = self._clock() if now is None else now
        changes: list[LeaseChange] = []
        holder = self._holder
        if holder is not None and now >= holder.expires_at:
            self._holder, self._request = None, None
            silent = now - (holder.expires_at - self.config.timeout_s)
            timeout = self.config.timeout_s
            detail = f"{holder.label} lost control: no heartbeat for {silent:.2f} s (timeout {timeout:g} s)"
            self._forget(
                holder.client_id, f"control lapsed: no heartbeat for {silent:.2f} s; take control again"
            )
            changes.append(
                self._change(
                    LeaseChangeKind.LAPSED, holder, None, detail, pause=self.config.pause_on_lapse, at=now
                )
            )
        pending = self._request
        if pending is not None and now >= pending.expires_at:
            self._request = None
            changes.append(
                self._change(
                    LeaseChangeKind.REQUEST_EXPIRED,
                    self._holder,
                    self._holder,
                    f"{pending.label}'s request for control expired unanswered",
                    at=now,
                )
            )
        return changes

    def _change(
        self,
        kind: LeaseChangeKind,
        previous: _Holder | None,
        holder: _Holder | None,
        detail: str,
        *,
        pause: bool = False,
        at: float | None = None,
    ) -> LeaseChange:
        now = self._clock() if at is None else at
        if kind is LeaseChangeKind.FORCED:
            pause = self.config.pause_on_force
        self._seq += 1
        change = LeaseChange(
            self._seq, kind, self._public(previous, now), self._public(holder, now), detail, now, pause
        )
        self._last = change
        return change

    def _forget(self, client_id: str, why: str) -> None:
        self._lost[client_id] = (why, None if self._holder is None else self._holder.client_id)
        self._lost.move_to_end(client_id)
        while len(self._lost) > 64:
            self._lost.popitem(last=False)

    def _notice(self, viewer_id: str | None, holder: _Holder | None) -> str | None:
        """Why ``viewer_id`` does not hold control, while the holder is still the one it was about."""
        if viewer_id is None or viewer_id not in self._lost:
            return None
        why, holder_then = self._lost[viewer_id]
        return why if holder_then == (None if holder is None else holder.client_id) else None

    def _name(self, client_id: str, label: str | None) -> str:
        """The name ``client_id`` goes by (numbered when taken); no label: its name, else ``client <tag>``."""
        elsewhere = [other.label for other in (self._holder, self._request)
                     if other is not None and other.client_id != client_id]
        return self._names.name(client_id, label, f"client {public_id(client_id)}", elsewhere)

    def _rename_everywhere(self, client_id: str, shown: str) -> None:
        if self._holder is not None and self._holder.client_id == client_id:
            self._holder.label = shown
        if self._request is not None and self._request.client_id == client_id:
            self._request.label = shown

    def _public(self, holder: _Holder | None, now: float) -> dict[str, Any] | None:
        if holder is None:
            return None
        return {
            "id": public_id(holder.client_id),
            "label": holder.label,
            "since": holder.since_wall,
            "held_s": round(max(0.0, now - holder.since), 3),
            "expires_in_s": round(max(0.0, holder.expires_at - now), 3),
        }

    def _held_by(self, holder: _Holder, now: float) -> str:
        return (
            f"{holder.label} holds control (for {now - holder.since:.0f} s); ask them to hand it over, "
            "or take control"
        )

    def _not_yours(self, client_id: str, holder: _Holder | None, now: float) -> str:
        why = self._lost.get(client_id, (None, None))[0]
        prefix = f"you do not hold control ({why})" if why else "you do not hold control"
        if holder is None:
            return f"{prefix}; nobody does: take control to command"
        return f"{prefix}; {self._held_by(holder, now)}"

    def _emit(self, changes: list[LeaseChange]) -> None:
        for change in changes:
            log.log(
                logging.WARNING
                if change.kind in (LeaseChangeKind.LAPSED, LeaseChangeKind.FORCED)
                else logging.INFO,
                "lease: %s",
                change.detail,
            )
            for callback in list(self._listeners):
                try:
                    callback(change)
                except Exception:
                    log.exception("lease: change callback failed")
