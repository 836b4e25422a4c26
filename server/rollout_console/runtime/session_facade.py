"""The read side of the session façade: ``describe()``, ``snapshot()``, ``metrics()``, ``latest_frame(name)``,
the leader's capabilities and the table geometry of drags. The API uses these and nothing deeper.

A mixin of ``Session`` (it reads the session's context, strategy, config and loop), kept apart so the
session module stays about the lifecycle and the commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from ..hardware.protocols import CameraSource, DrivableLeader, Frame, TableProjection
from .facade import LeaderCapabilities, LoopFigures, SessionDescription, SessionFigures, SessionSnapshot

if TYPE_CHECKING:
    from ..config import RolloutConsoleConfig
    from ..strategies.base import Strategy
    from ..strategies.context import TickContext
    from ..strategies.recording import Recording
    from .control_loop import ControlLoop

__all__ = ["SessionFacade"]


class SessionFacade:
    """What a session tells the API about itself (plain data, safe from any thread)."""

    id: str
    config: RolloutConsoleConfig
    ctx: TickContext
    strategy: Strategy
    loop: ControlLoop

    @property
    def cameras(self) -> Mapping[str, CameraSource]:  # the Session's: its robot's cameras
        raise NotImplementedError

    @property
    def recording(self) -> Recording | None:  # the Session's: its strategy's recording, if any
        raise NotImplementedError

    def status(self) -> dict[str, Any]:  # the Session implements it
        raise NotImplementedError

    def describe(self) -> SessionDescription:
        """What does not change while the session runs: strategy, commands, cameras, joints, the leader."""
        return SessionDescription(
            id=self.id,
            strategy=self.strategy.name,
            commands=tuple(sorted(self.strategy.commands)),
            cameras=tuple(self.cameras),
            joints=tuple(self.ctx.layout.state_names),
            records=self.recording is not None,
            evaluates=self.strategy.evaluation is not None,
            corrects_with_leader=self.strategy.needs_leader,
            fps=self.config.fps,
            control_hz=self.config.fps * self.config.interpolation_multiplier,
            leader=self.leader_capabilities(),
        )

    def snapshot(self) -> SessionSnapshot:
        """The status now (the typed view of ``status()``)."""
        return cast(SessionSnapshot, self.status())

    def leader_capabilities(self) -> LeaderCapabilities | None:
        """The leader arm's name, whether the page may drive it, its joint limits and the drag cameras."""
        teleop = self.ctx.teleop
        if teleop is None:
            return None
        drivable = isinstance(teleop, DrivableLeader)
        return LeaderCapabilities(
            name=teleop.name,
            drivable=drivable,
            driven_by_expert=self.ctx.teleop_driver is not None,
            joint_limits=dict(teleop.joint_limits) if isinstance(teleop, DrivableLeader) else {},
            drag_cameras=self.drag_cameras(),
        )

    def drag_cameras(self) -> tuple[str, ...]:
        """Cameras whose pixels map to points on the table."""
        return tuple(name for name, source in self.cameras.items()
                     if isinstance(source, TableProjection) and source.table_point(0.5, 0.5) is not None)

    def table_point(self, camera: str, u: float, v: float) -> tuple[float, float] | None:
        """The table point (metres) under a normalised pixel of ``camera``; None when not defined there."""
        source = self.cameras.get(camera)
        return source.table_point(u, v) if isinstance(source, TableProjection) else None

    def latest_frame(self, name: str) -> Frame | None:
        """The newest frame of camera ``name`` (None: no such camera, or no frame yet)."""
        source = self.cameras.get(name)
        return None if source is None else source.latest()

    def metrics(self) -> SessionFigures:
        """Loop counters and window, inference, recording and upload status: what /metrics reads."""
        stats = self.loop.stats
        work_p50, work_p99 = stats.work.percentiles(50, 99)
        recording = self.recording
        uploader = None if recording is None else recording.uploader
        return SessionFigures(
            session_id=self.id,
            strategy=str(self.strategy.name),
            robot=str(self.ctx.robot.name),
            robot_id=str(self.ctx.robot.id),
            policy=str(self.ctx.engine.policy_name),
            engine=self.ctx.engine.name,
            target_hz=float(self.config.fps),
            loop=LoopFigures(ticks=stats.ticks, overruns=stats.overruns, skipped_deadlines=stats.skipped_deadlines,
                             measured_hz=stats.measured_hz(), work_p50_s=work_p50, work_p99_s=work_p99,
                             lateness_s=tuple(float(v) for v in stats.lateness.values())),
            inference=self.ctx.engine.status(),
            recording=None if recording is None else recording.recorder.status(),
            upload=None if uploader is None else uploader.status(),
        )
