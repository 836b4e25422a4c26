"""How robot observations map to policy inputs and dataset features (LeRobot's key conventions).

    "<joint>.pos" floats  -> observation.state               (robot order)
    "env.*" floats        -> observation.environment_state   (the sim's task state)
    "<camera>" (H, W, 3)  -> observation.images.<camera>
    action "<joint>.pos"  -> action
Other scalar channels (velocities, currents) are ignored, as LeRobot's rollout does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ACTION", "ENV_STATE", "IMAGE_PREFIX", "STATE", "FeatureLayout"]

STATE = "observation.state"
ENV_STATE = "observation.environment_state"
IMAGE_PREFIX = "observation.images."
ACTION = "action"


@dataclass(frozen=True)
class FeatureLayout:
    """Names and shapes of everything that flows robot -> policy -> dataset, fixed at startup."""

    state_names: tuple[str, ...]
    env_names: tuple[str, ...]
    camera_shapes: Mapping[str, tuple[int, int, int]]
    action_names: tuple[str, ...]

    @classmethod
    def from_robot(cls, observation_features: Mapping[str, Any], action_features: Mapping[str, Any]) -> FeatureLayout:
        state = tuple(k for k, v in observation_features.items() if v is float and k.endswith(".pos"))
        env = tuple(k for k, v in observation_features.items() if v is float and k.startswith("env."))
        cameras = {k: tuple(v) for k, v in observation_features.items() if isinstance(v, tuple) and len(v) == 3}
        actions = tuple(k for k, v in action_features.items() if v is float and k.endswith(".pos"))
        return cls(state, env, cameras, actions)

    @property
    def camera_names(self) -> tuple[str, ...]:
        return tuple(self.camera_shapes)

    def state_vector(self, raw: Mapping[str, Any]) -> np.ndarray:
        return np.array([raw[k] for k in self.state_names], dtype=np.float32)

    def env_vector(self, raw: Mapping[str, Any]) -> np.ndarray:
        return np.array([raw[k] for k in self.env_names], dtype=np.float32)

    def policy_observation(self, raw: Mapping[str, Any], task: str = "") -> dict[str, Any]:
        """A LeRobot-style observation frame (numpy, unbatched) from a raw robot observation."""
        frame: dict[str, Any] = {STATE: self.state_vector(raw)}
        if self.env_names:
            frame[ENV_STATE] = self.env_vector(raw)
        for name in self.camera_shapes:
            frame[IMAGE_PREFIX + name] = raw[name]
        frame["task"] = task
        return frame

    def action_vector(self, action: Mapping[str, float]) -> np.ndarray:
        return np.array([action[k] for k in self.action_names], dtype=np.float32)

    def action_dict(self, vector: np.ndarray) -> dict[str, float]:
        if len(vector) != len(self.action_names):
            raise ValueError(f"action has {len(vector)} values but the robot expects {len(self.action_names)}")
        return {k: float(v) for k, v in zip(self.action_names, vector, strict=True)}
