"""Creates the configured policy; heavy policy code (torch) is imported only when selected.

``POLICIES`` holds lazy factories keyed by ``--policy.type`` (see ``rollout_console.registry``); another
policy family registers one more entry.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import FlowPolicyConfig, PolicyConfig, ScriptedPolicyConfig
from ..config.lerobot import LeRobotPolicyConfig
from ..config.remote import RemotePolicyConfig
from ..errors import ConfigError
from ..features import FeatureLayout
from ..registry import Registry
from .protocol import Policy

__all__ = ["POLICIES", "PolicyFactory", "make_policy"]

PolicyFactory = Callable[[PolicyConfig, FeatureLayout, float], Policy]
POLICIES: Registry[PolicyFactory] = Registry("policy type", "--policy.type")


@POLICIES.register("scripted")
def _scripted(config: PolicyConfig, layout: FeatureLayout, fps: float) -> Policy:
    from .scripted import ScriptedExpert

    assert isinstance(config, ScriptedPolicyConfig)  # the type picked this factory
    return ScriptedExpert(layout.state_names, layout.env_names, layout.action_names, fps=fps,
                          chunk_size=config.chunk_size, max_joint_speed_deg_s=config.max_joint_speed_deg_s)


@POLICIES.register("flow")
def _flow(config: PolicyConfig, layout: FeatureLayout, fps: float) -> Policy:
    import torch

    assert isinstance(config, FlowPolicyConfig)
    from .flow.policy import load_flow_policy

    if config.torch_threads is not None:  # unset: the session's CPU budget has set it (runtime/cpu_budget.py)
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


@POLICIES.register("lerobot")
def _lerobot(config: PolicyConfig, layout: FeatureLayout, fps: float) -> Policy:
    from .lerobot_policy import load_lerobot_policy

    assert isinstance(config, LeRobotPolicyConfig)
    if config.torch_threads is not None:
        import torch

        torch.set_num_threads(config.torch_threads)
    return load_lerobot_policy(config, layout, fps)


@POLICIES.register("remote")
def _remote(config: PolicyConfig, layout: FeatureLayout, fps: float) -> Policy:
    from .remote.loader import load_remote_policy

    assert isinstance(config, RemotePolicyConfig)
    return load_remote_policy(config, layout, fps)


def make_policy(config: PolicyConfig, layout: FeatureLayout, fps: float) -> Policy:
    """Build the policy named by ``config.type``; raises ConfigError naming the flag at fault."""
    return POLICIES.get(config.type)(config, layout, fps)
