"""Builds the episodic strategy from the session's parts: detector, results directory, policy switch."""

from __future__ import annotations

import time
from pathlib import Path

from ..config import RolloutConsoleConfig
from ..config.episodic import EpisodicStrategyConfig
from ..errors import ConfigError
from ..evaluation.detector import load_detector, robot_detector
from ..hardware.protocols import TaskReporter
from ..hardware.thread_safe import ThreadSafeRobot
from ..inference.base import InferenceEngine
from ..inference.switch import EngineSwitch
from .episodic import EpisodicStrategy
from .recording import Recording

__all__ = ["make_episodic", "results_dir"]


def results_dir(config: EpisodicStrategyConfig, recording: Recording | None) -> Path:
    """``--strategy.output_dir``, else ``<dataset root>_evaluation`` beside the dataset, else outputs/."""
    if config.output_dir:
        return Path(config.output_dir).expanduser()
    if recording is not None:
        root = Path(recording.recorder.root)
        return root.with_name(f"{root.name}_evaluation")
    return Path("outputs") / "evaluation" / time.strftime("%Y%m%d-%H%M%S")


def make_episodic(config: RolloutConsoleConfig, recording: Recording | None, *, engine: InferenceEngine,
                  robot: ThreadSafeRobot) -> EpisodicStrategy:
    strategy = config.strategy
    assert isinstance(strategy, EpisodicStrategyConfig)  # the registry picked the episodic strategy
    detector = None
    if strategy.success_detector:
        detector = load_detector(strategy.success_detector)
    elif isinstance(robot.inner, TaskReporter):  # the robot tells whether its task succeeded (the sim)
        detector = robot_detector(robot.task_status)
    if strategy.outcome_from in ("detector", "both") and detector is None:
        raise ConfigError(f"--strategy.outcome_from={strategy.outcome_from} needs a success detector: this robot "
                          "has none, give --strategy.success_detector=module:function", flag="--strategy.outcome_from")
    switch = engine if isinstance(engine, EngineSwitch) else None
    names = list(switch.engines) if switch is not None else [engine.policy_name]
    return EpisodicStrategy(strategy, recording, names, detector, results_dir(strategy, recording), switch)
