"""All configuration as pydantic models, shared by the CLI, the API and the docs."""

from .base import StrictModel
from .flags import flag_names, help_text, load_config, parse_flags
from .hardware import SIM_CAMERA_VIEWS, RobotConfig, SimRobotConfig, SimTeleopConfig, TeleopConfig
from .inputs import AuthConfig, LeaseConfig, PedalConfig
from .inference import InferenceConfig, SyncInferenceConfig
from .policy import PolicyConfig, ScriptedPolicyConfig
from .root import LoopConfig, RolloutConsoleConfig, ServerConfig
from .dataset import DatasetConfig
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
    "HighlightStrategyConfig",
    "SentryStrategyConfig",
    "InferenceConfig",
    "LeaseConfig",
    "LoopConfig",
    "PedalConfig",
    "PolicyConfig",
    "RobotConfig",
    "RolloutConsoleConfig",
    "ScriptedPolicyConfig",
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
