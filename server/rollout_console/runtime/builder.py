"""Composition root for a session: robot, features, engine, strategy, context, all from one config."""

from __future__ import annotations

from ..config import RolloutConsoleConfig
from ..features import FeatureLayout
from ..hardware.registry import make_robot
from ..hardware.thread_safe import ThreadSafeRobot
from ..inference.factory import build_engine
from ..strategies import make_strategy
from ..strategies.context import TickContext
from .events import EventBus
from .session import Session

__all__ = ["build_session"]


def build_session(config: RolloutConsoleConfig) -> Session:
    """Build everything without touching hardware I/O; ``Session.start`` connects."""
    robot = ThreadSafeRobot(make_robot(config.robot))
    layout = FeatureLayout.from_robot(robot.observation_features, robot.action_features)
    engine = build_engine(config, layout)
    strategy = make_strategy(config)
    ctx = TickContext(config=config, robot=robot, layout=layout, engine=engine, events=EventBus())
    return Session(config, ctx, strategy)
