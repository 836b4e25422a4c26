"""The types of the session façade: what the API (and scripts) may know about a session.

The API never reaches past a Session into its context, recorder, engine or cameras: it asks the session
to ``describe()`` itself (what does not change while it runs), for a ``snapshot()`` (its status now), for
``metrics()`` (the figures Prometheus scrapes), for ``latest_frame(name)`` and for its leader arm's
capabilities. These are plain data, safe to hand to any thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

__all__ = ["LeaderCapabilities", "LoopFigures", "SessionDescription", "SessionFigures", "SessionSnapshot"]


@dataclass(frozen=True)
class LeaderCapabilities:
    """What the session's leader arm can do from the page or a script."""

    name: str
    drivable: bool
    """Targets can be set (sliders, a fingertip position, drags); false for a physical leader."""
    driven_by_expert: bool
    """The scripted expert moves it (--teleop.driver=expert): nobody else may."""
    joint_limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    drag_cameras: tuple[str, ...] = ()
    """Cameras whose pixels map to table points (a drag there moves the fingertip)."""


@dataclass(frozen=True)
class SessionDescription:
    """What does not change while a session runs (the page is drawn from it)."""

    id: str
    strategy: str
    commands: tuple[str, ...]
    cameras: tuple[str, ...]
    joints: tuple[str, ...]
    records: bool
    """The session records a dataset."""
    evaluates: bool
    """The session evaluates policies (episodic)."""
    corrects_with_leader: bool
    """Corrections are made with the leader arm (the page shows its sliders)."""
    fps: float
    control_hz: float
    leader: LeaderCapabilities | None


@dataclass(frozen=True)
class LoopFigures:
    ticks: int
    overruns: int
    skipped_deadlines: int
    measured_hz: float | None
    work_p50_s: float | None
    work_p99_s: float | None
    lateness_s: tuple[float, ...]
    """The lateness of the newest ticks in the stats window, oldest first (for a histogram)."""


@dataclass(frozen=True)
class SessionFigures:
    """The numbers /metrics reads at scrape time (one call, so they belong together)."""

    session_id: str
    strategy: str
    robot: str
    robot_id: str
    policy: str
    engine: str
    target_hz: float
    loop: LoopFigures
    inference: dict[str, Any]
    recording: dict[str, Any] | None
    upload: dict[str, Any] | None


class SessionSnapshot(TypedDict, total=False):
    """A session's status (``GET /api/v1/status`` while it runs); strategies add their own keys."""

    session_id: str
    strategy: str
    phase: str
    fps: float
    control_hz: float
    elapsed_s: float
    loop: dict[str, Any]
    robot: dict[str, Any]
    cameras: dict[str, dict[str, Any]]
    policy: dict[str, Any]
    inference: dict[str, Any]
    task: dict[str, Any] | None
    notice: str | None
    notice_level: str | None
    error: str | None
    commands: list[str]
    available_commands: list[str]
    event_seq: int
    teleop: dict[str, Any]
    recording: dict[str, Any] | None
    upload: dict[str, Any] | None
    server_id: str
