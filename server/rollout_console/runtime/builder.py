"""Composition root for a session: robot, features, engine, strategy, context, all from one config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import RolloutConsoleConfig
from ..config.episodic import EpisodicStrategyConfig
from ..errors import ConfigError
from ..features import FeatureLayout
from ..hardware.registry import make_robot, make_teleop
from ..hardware.thread_safe import ThreadSafeRobot
from ..inference.factory import build_engine
from ..inference.pool import build_policy_switch
from ..inference.interpolator import ActionInterpolator
from ..strategies import make_strategy
from ..strategies.context import TickContext
from ..strategies.recording import open_recording
from ..protocol.events import EventBus
from .session import Session

__all__ = ["Hardware", "build_hardware", "build_session"]


def build_engine_for_strategy(config: RolloutConsoleConfig, layout: FeatureLayout) -> Any:
    """The policy engine; an evaluation (episodic) loads every policy it compares behind one switch."""
    if isinstance(config.strategy, EpisodicStrategyConfig):
        return build_policy_switch(config, layout)
    return build_engine(config, layout)


@dataclass(frozen=True)
class Hardware:
    """The devices a ConsoleHost keeps connected across sessions (built once from the machine part)."""

    robot: ThreadSafeRobot
    teleop: Any  # Teleoperator | None


def build_hardware(config: RolloutConsoleConfig) -> Hardware:
    """The robot (thread-safe) and the leader arm of ``config``, not connected yet."""
    return Hardware(ThreadSafeRobot(make_robot(config.robot)), make_teleop(config.teleop))


def build_session(config: RolloutConsoleConfig, *, hub_api: Any = None, hardware: Hardware | None = None,
                  events: EventBus | None = None) -> Session:
    """Build everything without connecting hardware; ``Session.start`` connects.

    A dataset is opened here (recovered, and checked for compatibility on resume) so that a mismatch
    stops the program before the robot is touched. ``hub_api`` replaces the Hugging Face client
    (tests inject failures at that boundary). ``hardware`` and ``events`` are lent by a ConsoleHost: the
    session then leaves the devices connected when it ends and numbers its events on the host's bus.
    """
    lent = hardware is not None
    hardware = hardware or build_hardware(config)
    robot = hardware.robot
    layout = FeatureLayout.from_robot(robot.observation_features, robot.action_features)
    events = events or EventBus()
    recording = open_recording(config, layout, robot.name, events, hub_api) if config.dataset else None
    engine = build_engine_for_strategy(config, layout)
    strategy = make_strategy(config, recording, engine=engine, robot=robot)
    teleop = hardware.teleop
    if teleop is not None and config.strategy.type == "dagger":
        missing = [name for name in layout.action_names if name not in teleop.action_features]
        if missing:
            raise ConfigError(f"the leader arm has no {missing}: it cannot drive this robot's joints during "
                              "corrections", flag="--teleop.type")
    driver = None
    if teleop is not None and getattr(config.teleop, "driver", "manual") == "expert":
        from ..policies.teleop_expert import ExpertLeaderDriver

        driver = ExpertLeaderDriver(teleop, layout, config.fps)
    ctx = TickContext(config=config, robot=robot, layout=layout, engine=engine, events=events,
                      interpolator=ActionInterpolator(config.interpolation_multiplier),
                      teleop=teleop, teleop_driver=driver)
    session = Session(config, ctx, strategy, owns_hardware=not lent)
    if recording is not None:
        recording.recorder.set_tick_gate(session.loop.wait_after_tick)
    return session
