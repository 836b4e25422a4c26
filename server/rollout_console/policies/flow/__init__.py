"""A small flow-matching chunk policy (torch, CPU), its trainer and a demo-data generator for the sim.

Heavy modules (torch) are imported by the submodules; importing this package imports torch.
"""

from .config import FlowConfig
from .model import FlowNet
from .policy import FlowPolicy, load_flow_policy, resolve_checkpoint, save_checkpoint

__all__ = ["FlowConfig", "FlowNet", "FlowPolicy", "load_flow_policy", "resolve_checkpoint", "save_checkpoint"]
