"""Policies: the protocol, the scripted sim expert, and the registry that builds the configured one."""

from .latency import SlowedPolicy
from .protocol import Policy
from .registry import make_policy

__all__ = ["Policy", "SlowedPolicy", "make_policy"]
