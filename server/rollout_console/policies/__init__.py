"""Policies: the protocols, the scripted sim expert, the flow policy, and the registry that builds one."""

from .latency import SlowedGuidedPolicy, SlowedPolicy
from .protocol import GuidedPolicy, Policy, is_guided
from .registry import POLICIES, make_policy

__all__ = ["POLICIES", "GuidedPolicy", "Policy", "SlowedGuidedPolicy", "SlowedPolicy", "is_guided",
           "make_policy"]
