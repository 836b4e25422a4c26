"""Creates the configured policy; heavy policy code (torch) is imported only when selected.

The registry is a small dict of lazy factories keyed by ``--policy.type``; another policy family
(e.g. LeRobot pretrained policies) registers one more entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError
from ..features import FeatureLayout
from .protocol import Policy

__all__ = ["POLICY_FACTORIES", "make_policy"]

PolicyFactory = Callable[[Any, FeatureLayout, float], Policy]


def _scripted(config: Any, layout: FeatureLayout, fps: float) -> Policy:
    from .scripted import ScriptedExpert

    return ScriptedExpert(layout.state_names, layout.env_names, layout.action_names, fps=fps,
                          chunk_size=config.chunk_size, max_joint_speed_deg_s=config.max_joint_speed_deg_s)


def _flow(config: Any, layout: FeatureLayout, fps: float) -> Policy:
    import torch

    from .flow.policy import load_flow_policy

    torch.set_num_threads(config.torch_threads)  # process-wide: the console serves one policy

    try:
        policy = load_flow_policy(config.path, state_names=layout.state_names, env_names=layout.env_names,
                                  action_names=layout.action_names, num_steps=config.num_steps,
                                  jacobian_free=config.jacobian_free, prior_std=config.guidance_prior_std,
                                  seed=config.seed)
    except FileNotFoundError as exc:
        raise ConfigError(f"cannot load the flow policy: {exc}", flag="--policy.path") from None
    except ValueError as exc:
        raise ConfigError(f"{config.path} does not fit this robot: {exc}", flag="--policy.path") from None
    trained_fps = policy.config.fps
    if trained_fps and abs(trained_fps - fps) > 1e-6:
        raise ConfigError(f"{config.path} was trained at {trained_fps:g} fps but the session runs at {fps:g}; "
                          f"its chunks are timed per tick, so set --fps={trained_fps:g}", flag="--fps")
    return policy


def _lerobot(config: Any, layout: FeatureLayout, fps: float) -> Policy:
    from .lerobot_policy import load_lerobot_policy

    return load_lerobot_policy(config, layout, fps)


def _remote(config: Any, layout: FeatureLayout, fps: float) -> Policy:
    from .remote.loader import load_remote_policy

    return load_remote_policy(config, layout, fps)


POLICY_FACTORIES: dict[str, PolicyFactory] = {
    "scripted": _scripted,
    "flow": _flow,
    "lerobot": _lerobot,
    "remote": _remote,
}


def make_policy(config: Any, layout: FeatureLayout, fps: float) -> Policy:
    """Build the policy named by ``config.type``; raises ConfigError naming the flag at fault."""
    factory = POLICY_FACTORIES.get(config.type)
    if factory is None:
        raise ConfigError(f"unknown policy type {config.type!r} (known: {', '.join(POLICY_FACTORIES)})",
                          flag="--policy.type")
    return factory(config, layout, fps)
