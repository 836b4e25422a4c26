"""Creates the configured policy; heavy policy code is imported only when selected."""

from __future__ import annotations

from ..config import PolicyConfig
from ..features import FeatureLayout
from .protocol import Policy

__all__ = ["make_policy"]


def make_policy(config: PolicyConfig, layout: FeatureLayout, fps: float) -> Policy:
    if config.type == "scripted":
        from .scripted import ScriptedExpert

        return ScriptedExpert(layout.state_names, layout.env_names, layout.action_names, fps=fps,
                              chunk_size=config.chunk_size, max_joint_speed_deg_s=config.max_joint_speed_deg_s)
    raise ValueError(f"unknown policy type {config.type!r}")
