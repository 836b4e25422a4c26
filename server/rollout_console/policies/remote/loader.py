"""Connects a ``--policy.type=remote`` policy and checks it against the robot before anything moves."""

from __future__ import annotations

import os

from ...config.remote import RemotePolicyConfig
from ...errors import ConfigError
from ...features import ENV_STATE, IMAGE_PREFIX, STATE, FeatureLayout
from .keys import ObservationMapper
from .link import RemoteError, RemoteLink, RemoteRefused
from .policy import GuidedRemotePolicy, RemotePolicy, advertises_rtc, metadata_mismatch
from .wire import API_KEY_ENV

__all__ = ["load_remote_policy"]


def _console_keys(layout: FeatureLayout) -> list[str]:
    keys = [STATE, "task"] + ([ENV_STATE] if layout.env_names else [])
    return keys + [IMAGE_PREFIX + name for name in layout.camera_names]


def load_remote_policy(config: RemotePolicyConfig, layout: FeatureLayout, fps: float) -> RemotePolicy:
    """Connect to ``config.url`` (API key from the environment), read and check the metadata.

    Raises ConfigError naming the flag: an unknown rename_map key, an unreachable server, a refused
    key (HTTP 401), or advertised action shapes that do not fit the robot.
    """
    mapper = ObservationMapper(config.rename_map, config.image_size)
    unknown = mapper.unknown_sources(_console_keys(layout))
    if unknown:
        raise ConfigError(f"this robot has no {unknown} (its keys: {', '.join(_console_keys(layout))})",
                          flag="--policy.rename_map")
    link = RemoteLink(
        config.url, os.environ.get(API_KEY_ENV) or None,
        connect_timeout_s=config.connect_timeout_s, request_timeout_s=config.request_timeout_s,
        latency_budget_s=config.latency_budget_ms / 1000.0, stall_after_s=config.stall_after_ms / 1000.0,
    )
    try:
        metadata = link.connect_first()
    except RemoteRefused as exc:
        raise ConfigError(str(exc), flag="--policy.url") from None
    except RemoteError as exc:
        raise ConfigError(f"{exc} (start the policy server first)", flag="--policy.url") from None
    why = metadata_mismatch(metadata, layout.action_names, fps)
    if why:
        link.close()
        raise ConfigError(f"policy server {config.url} {why}", flag="--policy.url")
    kind = GuidedRemotePolicy if advertises_rtc(metadata) else RemotePolicy
    policy = kind(link, mapper, layout.action_names, config.action_key)
    policy.max_action_age_ms = config.max_action_age_ms
    link.start()
    return policy
