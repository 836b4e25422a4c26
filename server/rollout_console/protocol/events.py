"""EventBus: numbered events with a replay buffer, so a reconnecting client can resync by sequence."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EVENT_KINDS", "Event", "EventBus"]

EVENT_KINDS: tuple[str, ...] = (
    # session and phases
    "session_started", "session_stopped", "server_idle", "phase_changed", "command", "notice", "error",
    # control and inputs
    "lease", "pedal",
    # recording
    "episode_started", "episode_saved", "episode_discarded", "episode_failed", "recording_failed",
    "recovered_on_open", "frames_dropped", "encoder_backlog", "disk_low", "disk_ok", "cpu_budget",
    # upload to the Hub
    "upload_started", "upload_progress", "upload_done", "upload_failed",
    # dagger corrections
    "correction_started", "correction_ended", "handover_done",
    # evaluation (the episodic strategy)
    "evaluation_reset", "evaluation_episode_started", "evaluation_success_detected", "evaluation_episode_ended",
    "evaluation_outcome", "evaluation_rerecord", "evaluation_excluded", "evaluation_finished",
)
"""Every event kind the server publishes (docs/api.md, Events). The page has a sentence for each; a test
finds every ``publish``/``_emit`` call in the server and fails on a kind missing here."""


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "event", "seq": self.seq, "time": self.time, "kind": self.kind, "data": self.data}


Subscriber = Callable[[Event], None]


class EventBus:
    """Thread-safe publish; subscribers must be quick and never block (they run on the publisher)."""

    def __init__(self, history: int = 1000) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._history: deque[Event] = deque(maxlen=history)
        self._subscribers: list[Subscriber] = []

    @property
    def last_seq(self) -> int:
        return self._seq

    def publish(self, kind: str, /, **data: Any) -> Event:
        with self._lock:
            self._seq += 1
            event = Event(self._seq, kind, data)
            self._history.append(event)
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(event)
            except Exception:  # a broken subscriber must not disturb the publisher (the control loop)
                pass
        return event

    def since(self, seq: int) -> list[Event]:
        """Buffered events after ``seq`` (the oldest may have been dropped from the buffer)."""
        with self._lock:
            return [e for e in self._history if e.seq > seq]

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe
