"""All configuration as pydantic models, shared by the CLI, the API and the docs."""

from .base import StrictModel
from .dataset import DatasetConfig
from .flags import flag_names, help_text, load_config, parse_flags
from .hardware import SIM_CAMERA_VIEWS, RobotConfig, SimRobotConfig, SimTeleopConfig, TeleopConfig
from .inference import InferenceConfig, RTCInferenceConfig, RTCOptions, SyncInferenceConfig
from .inputs import AuthConfig, LeaseConfig, PedalConfig
from .policy import FlowPolicyConfig, PolicyConfig, ScriptedPolicyConfig
from .root import LoopConfig, RolloutConsoleConfig, ServerConfig
from .strategy import (
    BaseStrategyConfig,
    DaggerStrategyConfig,
    HighlightStrategyConfig,
    SentryStrategyConfig,
    StrategyConfig,
)

__all__ = [
    "SIM_CAMERA_VIEWS",
    "AuthConfig",
    "BaseStrategyConfig",
    "DaggerStrategyConfig",
    "DatasetConfig",
    "FlowPolicyConfig",
    "HighlightStrategyConfig",
    "InferenceConfig",
    "LeaseConfig",
    "LoopConfig",
    "PedalConfig",
    "PolicyConfig",
    "RTCInferenceConfig",
    "RTCOptions",
    "RobotConfig",
    "RolloutConsoleConfig",
    "ScriptedPolicyConfig",
    "SentryStrategyConfig",
    "ServerConfig",
    "SimRobotConfig",
    "SimTeleopConfig",
    "StrategyConfig",
    "StrictModel",
    "SyncInferenceConfig",
    "TeleopConfig",
    "flag_names",
    "help_text",
    "load_config",
    "parse_flags",
]
