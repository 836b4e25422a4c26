"""Composition root for a session: robot, features, engine, strategy, context, all from one config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config import RolloutConsoleConfig, SimTeleopConfig
from ..config.episodic import EpisodicStrategyConfig
from ..errors import ConfigError
from ..features import FeatureLayout
from ..hardware.protocols import DrivableLeader, Teleoperator
from ..hardware.registry import make_robot, make_teleop
from ..hardware.thread_safe import ThreadSafeRobot
from ..inference.base import InferenceEngine
from ..inference.factory import build_engine
from ..inference.interpolator import ActionInterpolator
from ..inference.pool import build_policy_switch
from ..inference.rtc import RTCInferenceEngine
from ..protocol.events import EventBus
from ..strategies import STRATEGIES, StrategyParts
from ..strategies.context import TickContext
from ..strategies.recording import open_recording
from .cpu_budget import apply_torch_threads, encoder_measure, plan_for_session
from .session import Session

__all__ = ["Hardware", "build_hardware", "build_session"]


def build_engine_for_strategy(config: RolloutConsoleConfig, layout: FeatureLayout) -> InferenceEngine:
    """The policy engine; an evaluation (episodic) loads every policy it compares behind one switch."""
    if isinstance(config.strategy, EpisodicStrategyConfig):
        return build_policy_switch(config, layout)
    return build_engine(config, layout)


@dataclass(frozen=True)
class Hardware:
    """The devices a ConsoleHost keeps connected across sessions (built once from the machine part)."""

    robot: ThreadSafeRobot
    teleop: Teleoperator | None


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
    kind = STRATEGIES.get(config.strategy.type)
    recording = None
    if config.dataset:
        recording = open_recording(config, layout, robot.name, events, hub_api,
                                   intervention=kind.records_intervention)
    budget = plan_for_session(config, layout.camera_shapes, events.publish)
    try:
        apply_torch_threads(budget)  # before the policy loads: torch sizes its pool on first use
        engine = build_engine_for_strategy(config, layout)
        strategy = kind.build(config, recording, StrategyParts(engine=engine, robot=robot))
        teleop = hardware.teleop
        if teleop is not None and strategy.needs_leader:
            missing = [name for name in layout.action_names if name not in teleop.action_features]
            if missing:
                raise ConfigError(f"the leader arm has no {missing}: it cannot drive this robot's joints during "
                                  "corrections", flag="--teleop.type")
        driver = None
        if isinstance(config.teleop, SimTeleopConfig) and config.teleop.driver == "expert":
            from ..policies.teleop_expert import ExpertLeaderDriver

            if not isinstance(teleop, DrivableLeader):
                raise ConfigError("--teleop.driver=expert needs a leader the console can move", flag="--teleop.driver")

            driver = ExpertLeaderDriver(teleop, layout, config.fps)
        ctx = TickContext(config=config, robot=robot, layout=layout, engine=engine, events=events,
                          interpolator=ActionInterpolator(config.interpolation_multiplier),
                          teleop=teleop, teleop_driver=driver)
        session = Session(config, ctx, strategy, owns_hardware=not lent)
        session.cpu_budget = budget
        measure = None
        if recording is not None:
            recording.recorder.set_tick_gate(session.loop.wait_after_tick)
            if budget.encoders is not None and config.dataset is not None:
                budget.attach_workers(recording.recorder.camera_workers)
                largest = max(layout.camera_shapes.values(), key=lambda shape: int(shape[0]) * int(shape[1]))
                measure = encoder_measure(budget, config.dataset.crf, config.dataset.gop,
                                          (int(largest[0]), int(largest[1])))
        if config.inference.type != "sync":
            budget.attach_engine(engine.status, config.fps)
            if isinstance(engine, RTCInferenceEngine) and budget.torch.threads is not None:
                engine.before_inference = budget.inference_hook()
        budget.attach_measure(measure)
        return session
    except BaseException:
        if recording is not None:  # never started: leave no dataset or thread behind (a retry may reuse the root)
            recording.abandon(created=not config.resume)
        raise
