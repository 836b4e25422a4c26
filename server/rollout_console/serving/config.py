"""``rollout-console serve-policy`` options (same ``--dotted.flag`` syntax as the console)."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from ..config.base import StrictModel
from ..config.hardware import RobotConfig, SimRobotConfig
from ..config.policy import FlowPolicyConfig, PolicyConfig

__all__ = ["ServePolicyConfig", "is_loopback"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServePolicyConfig(StrictModel):
    """A policy the console can load, served over openpi's WebSocket protocol (+ the RTC extension)."""

    host: str = Field("127.0.0.1", description="Address to bind; anything but loopback requires the API key "
                      "(env ROLLOUT_POLICY_API_KEY)")
    port: int = Field(8000, ge=0, le=65535, description="TCP port for WebSocket, /healthz and /metrics (0: any)")
    policy: PolicyConfig = Field(default_factory=FlowPolicyConfig)
    robot: RobotConfig = Field(default_factory=SimRobotConfig, description="Robot whose features the policy "
                               "serves (names and order of state and actions); it is never connected")
    fps: float = Field(30.0, gt=0, le=1000, description="Rate the policy's chunks are timed at")
    device: str | None = Field(None, description="Torch device of a LeRobot policy (default: cuda when "
                               "available, else the policy's own setting)")
    log_level: str = Field("info", description="Log level (debug, info, warning, error)")

    @field_validator("policy")
    @classmethod
    def _not_remote(cls, value: object) -> object:
        if getattr(value, "type", None) == "remote":
            raise ValueError("serve-policy serves a local policy; --policy.type=remote would only forward")
        return value
