"""Builds the policy and the inference engine named in the configuration."""

from __future__ import annotations

from ..config import RolloutConsoleConfig
from ..features import FeatureLayout
from ..policies.latency import SlowedPolicy
from ..policies.protocol import Policy
from ..policies.registry import make_policy
from .base import InferenceEngine
from .sync import SyncInferenceEngine

__all__ = ["build_engine"]


def build_engine(config: RolloutConsoleConfig, layout: FeatureLayout) -> InferenceEngine:
    policy: Policy = make_policy(config.policy, layout, fps=config.fps)
    if config.inference.simulated_latency_ms > 0:
        policy = SlowedPolicy(policy, config.inference.simulated_latency_ms)
    return SyncInferenceEngine(policy, config.inference.n_action_steps)
