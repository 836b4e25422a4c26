"""``rollout-console serve-policy``: parse flags, load the policy, serve it (what runs on the GPU machine)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from ..config import PolicyConfig
from ..config.flags import deep_merge, parse_flags, validation_error_to_config_error
from ..config.lerobot import LeRobotPolicyConfig
from ..errors import ConfigError
from ..features import FeatureLayout
from ..policies.remote.wire import API_KEY_ENV
from .config import ServePolicyConfig, is_loopback

__all__ = ["build_server", "main"]

_USAGE = """usage: rollout-console serve-policy [--policy.path=builtin:sim_flow | --policy.path=CHECKPOINT]
       [--host=127.0.0.1] [--port=8000] [--fps=30] [--robot.type=sim] [--device=cuda]

Serves a policy over openpi's WebSocket protocol (msgpack-numpy, metadata first) with the RTC
extension for guided policies. API key: environment variable ROLLOUT_POLICY_API_KEY (required
to listen on anything but loopback). /healthz and /metrics are served on the same port.
"""


def load_serve_config(argv: Sequence[str]) -> ServePolicyConfig:
    tree, config_path = parse_flags(argv)
    if config_path:
        from ..config.flags import _read_file

        tree = deep_merge(_read_file(config_path), tree)
    try:
        return ServePolicyConfig.model_validate(tree)
    except ValidationError as exc:
        known = ["--host", "--port", "--fps", "--device", "--log_level", "--policy.path", "--policy.type",
                 "--robot.type"]
        raise validation_error_to_config_error(exc, tree, known) from None


def _cuda_default(config: ServePolicyConfig) -> PolicyConfig:
    """LeRobot policies go on CUDA when it is there (unless --device says otherwise)."""
    policy = config.policy
    if not isinstance(policy, LeRobotPolicyConfig):
        return policy
    device = config.device
    if device is None and "device" not in policy.model_fields_set:
        import torch

        device = "cuda" if torch.cuda.is_available() else None
    return policy.model_copy(update={"device": device}) if device else policy


def build_server(config: ServePolicyConfig, api_key: str | None) -> Any:
    from ..hardware.registry import make_robot
    from ..policies.registry import make_policy
    from .server import PolicyServer

    if not is_loopback(config.host) and not api_key:
        raise ConfigError(f"listening on {config.host} needs an API key: set {API_KEY_ENV}", flag="--host")
    robot = make_robot(config.robot)  # for its feature names only; never connected
    layout = FeatureLayout.from_robot(robot.observation_features, robot.action_features)
    policy = make_policy(_cuda_default(config), layout, fps=config.fps)
    server = PolicyServer(policy, fps=config.fps, api_key=api_key)
    server.warm_up(_blank_observation(layout))
    return server


def _blank_observation(layout: FeatureLayout) -> dict[str, Any]:
    import numpy as np

    from ..features import ENV_STATE, IMAGE_PREFIX, STATE

    frame: dict[str, Any] = {STATE: np.zeros(len(layout.state_names), dtype=np.float32), "task": ""}
    if layout.env_names:
        frame[ENV_STATE] = np.zeros(len(layout.env_names), dtype=np.float32)
    for name, shape in layout.camera_shapes.items():
        frame[IMAGE_PREFIX + name] = np.zeros(shape, dtype=np.uint8)
    return frame


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    if any(arg in ("-h", "--help") for arg in args):
        sys.stdout.write(_USAGE)
        return 0
    api_key = os.environ.get(API_KEY_ENV) or None
    try:
        config = load_serve_config(args)
        server = build_server(config, api_key)
    except ConfigError as exc:
        print(f"rollout-console serve-policy: error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def run() -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[int] = loop.create_future()
        task = asyncio.create_task(server.serve(config.host, config.port, ready))
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if ready.done():
            auth = "API key required" if api_key else "no API key (loopback only)"
            print(f"rollout-console serve-policy: {server.policy.name} on ws://{config.host}:{ready.result()} "
                  f"({auth}; RTC extension {'on' if server.guided else 'off'})", flush=True)
        await task

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"rollout-console serve-policy: error: --port: cannot listen on {config.host}:{config.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    finally:
        server.close()
    return 0
