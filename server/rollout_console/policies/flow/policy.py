"""FlowPolicy: the Policy/GuidedPolicy wrapper around FlowNet, plus checkpoint save and load.

A checkpoint is a directory with ``config.json`` (FlowConfig) and ``model.safetensors`` (weights and
normalisation statistics). ``builtin:NAME`` names a checkpoint shipped in ``policies/builtin/NAME``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ...features import ENV_STATE, STATE
from ..guidance import guided_sample, prefix_weights
from .config import CONFIG_FILE, WEIGHTS_FILE, FlowConfig
from .model import FlowNet

__all__ = ["BUILTIN_DIR", "FlowPolicy", "load_flow_policy", "resolve_checkpoint", "save_checkpoint"]

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "builtin"
BUILTIN_PREFIX = "builtin:"


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory from ``DIR`` or ``builtin:NAME``; raises FileNotFoundError if absent."""
    text = str(path)
    if text.startswith(BUILTIN_PREFIX):
        name = text[len(BUILTIN_PREFIX):]
        directory = BUILTIN_DIR / name
        available = sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / CONFIG_FILE).is_file()) \
            if BUILTIN_DIR.is_dir() else []
        if not name or not (directory / CONFIG_FILE).is_file():
            raise FileNotFoundError(f"no builtin checkpoint {name!r} (available: {', '.join(available) or 'none'})")
        return directory
    directory = Path(text).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory")
    for file in (CONFIG_FILE, WEIGHTS_FILE):
        if not (directory / file).is_file():
            raise FileNotFoundError(f"{directory} has no {file} (not a flow policy checkpoint)")
    return directory


def save_checkpoint(net: FlowNet, directory: str | Path) -> Path:
    """Write ``config.json`` and ``model.safetensors`` into ``directory`` (created if needed)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in net.state_dict().items()}
    tmp = out / (WEIGHTS_FILE + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": "pt", "policy": "flow"})
    tmp.replace(out / WEIGHTS_FILE)
    (out / CONFIG_FILE).write_text(net.config.to_json() + "\n")
    return out


def load_net(directory: str | Path) -> FlowNet:
    folder = resolve_checkpoint(directory)
    config = FlowConfig.load(folder)
    net = FlowNet(config)
    state = load_file(str(folder / WEIGHTS_FILE))
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{folder}: weights do not match config.json (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})")
    return net


def _index_map(wanted: Sequence[str], available: Sequence[str], what: str) -> np.ndarray:
    missing = [name for name in wanted if name not in available]
    if missing:
        raise ValueError(f"the robot lacks the {what} {missing} this policy was trained with")
    return np.array([list(available).index(name) for name in wanted], dtype=np.int64)


class FlowPolicy:
    """A flow-matching chunk policy on CPU; implements Policy and GuidedPolicy.

    ``state_names``/``env_names``/``action_names`` describe the robot's layout: inputs are gathered
    and outputs (and guided prefixes) reordered so checkpoint and robot may order joints differently.
    """

    def __init__(
        self,
        net: FlowNet,
        *,
        state_names: Sequence[str] | None = None,
        env_names: Sequence[str] | None = None,
        action_names: Sequence[str] | None = None,
        num_steps: int | None = None,
        jacobian_free: bool = False,
        prior_std: float = 1.0,
        seed: int | None = None,
        name: str = "flow",
    ) -> None:
        config = net.config
        self.net = net.eval()
        for parameter in self.net.parameters():
            parameter.requires_grad_(False)
        self.config = config
        self.name = name
        self.chunk_size = config.chunk_size
        self.num_steps = num_steps or config.num_inference_steps
        self.jacobian_free = jacobian_free
        self.prior_std = prior_std
        self._generator = torch.Generator().manual_seed(seed if seed is not None else secrets.randbits(63))
        robot_state = list(state_names) if state_names is not None else list(config.state_names)
        robot_env = list(env_names) if env_names is not None else list(config.env_names)
        robot_actions = list(action_names) if action_names is not None else list(config.action_names)
        self.action_names = tuple(robot_actions)
        self._state_index = _index_map(config.state_names, robot_state, "joint states")
        self._env_index = _index_map(config.env_names, robot_env, "task-state features")
        # checkpoint action order -> robot order and back
        if sorted(robot_actions) != sorted(config.action_names):
            raise ValueError(f"the robot's actions {robot_actions} are not the ones this policy predicts "
                             f"{list(config.action_names)}")
        to_robot = _index_map(robot_actions, config.action_names, "actions")
        self._to_robot = to_robot
        self._to_model = np.argsort(to_robot)

    # ----------------------------------------------------------- protocol

    def reset(self) -> None:
        """Nothing to forget: every chunk depends on the current observation only."""

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray:
        cond = self._encode(observation)
        chunk = self.sample(cond, self.noise(1))
        return self._to_robot_actions(chunk[0])

    def predict_chunk_guided(
        self,
        observation: dict[str, Any],
        prefix: np.ndarray,
        inference_delay: int,
        execution_horizon: int,
        schedule: str = "LINEAR",
        max_guidance_weight: float = 10.0,
    ) -> np.ndarray:
        prefix = np.asarray(prefix, dtype=np.float32).reshape(-1, len(self.action_names))[: self.chunk_size]
        cond = self._encode(observation)
        if len(prefix) == 0:
            return self._to_robot_actions(self.sample(cond, self.noise(1))[0])
        target, weights = self.guidance_target(prefix, inference_delay, execution_horizon, schedule)
        chunk = self.sample(cond, self.noise(1), target, weights, max_guidance_weight)
        return self._to_robot_actions(chunk[0])

    # ----------------------------------------------------------- building blocks (also used by tests)

    def guidance_target(self, prefix: np.ndarray, inference_delay: int, execution_horizon: int,
                        schedule: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Prefix (robot order, robot units) -> (Y in model space, padded to H, and the weights W)."""
        rows = len(prefix)
        model_rows = torch.from_numpy(np.ascontiguousarray(prefix[:, self._to_model]))
        target = self.net.normalize_actions(model_rows)
        if rows < self.chunk_size:  # values are irrelevant (W = 0 there) but keep them finite
            target = torch.cat((target, target[-1:].expand(self.chunk_size - rows, -1)), dim=0)
        weights = prefix_weights(inference_delay, execution_horizon, self.chunk_size, schedule, prefix_len=rows)
        return target.unsqueeze(0), torch.from_numpy(weights)

    def sample(self, cond: torch.Tensor, noise: torch.Tensor, target: torch.Tensor | None = None,
               weights: torch.Tensor | None = None, max_guidance_weight: float = 0.0,
               trace: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Normalised chunks (B, H, M) from noise; guided toward ``target`` when given."""
        if cond.shape[0] != noise.shape[0]:
            cond = cond.expand(noise.shape[0], -1)
        with torch.no_grad():
            return guided_sample(
                lambda x, tau: self.net.velocity(x, cond, tau), noise, self.num_steps, target, weights,
                max_guidance_weight, jacobian_free=self.jacobian_free, trace=trace, prior_std=self.prior_std,
            )

    def encode(self, observation: dict[str, Any]) -> torch.Tensor:
        return self._encode(observation)

    def noise(self, batch: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Initial noise (batch, H, M) from ``generator`` or the policy's own seeded generator."""
        return torch.randn((batch, self.chunk_size, self.config.action_dim), generator=generator or self._generator)

    def reseed(self, seed: int) -> None:
        """Restart the policy's noise sequence (reproducible samples)."""
        self._generator.manual_seed(seed)

    def to_robot_actions(self, chunk: torch.Tensor) -> np.ndarray:
        """A normalised model-space chunk (H, M) -> robot units and order (float32 numpy)."""
        return self._to_robot_actions(chunk)

    # ----------------------------------------------------------- helpers

    def _encode(self, observation: dict[str, Any]) -> torch.Tensor:
        state = np.asarray(observation[STATE], dtype=np.float32)[self._state_index]
        if self.config.env_dim:
            if ENV_STATE not in observation:
                raise ValueError(f"the observation has no {ENV_STATE} (this policy needs the sim task state)")
            env = np.asarray(observation[ENV_STATE], dtype=np.float32)[self._env_index]
        else:
            env = np.zeros(0, dtype=np.float32)
        image = None
        if self.config.image_key:
            if self.config.image_key not in observation:
                raise ValueError(f"the observation has no {self.config.image_key}")
            image = torch.from_numpy(prepare_image(observation[self.config.image_key], self.config.image_size))[None]
        with torch.no_grad():
            return self.net.encode(torch.from_numpy(state)[None], torch.from_numpy(env)[None], image)

    def _to_robot_actions(self, chunk: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            actions = self.net.unnormalize_actions(chunk).numpy()
        return np.ascontiguousarray(actions[:, self._to_robot], dtype=np.float32)


def prepare_image(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """HWC uint8 RGB -> CHW float32 in [0, 1] at ``size`` = (height, width)."""
    height, width = size
    array = np.asarray(frame)
    if array.shape[:2] != (height, width):
        array = cv2.resize(array, (width, height), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(array.transpose(2, 0, 1), dtype=np.float32) / 255.0


def load_flow_policy(
    path: str | Path,
    *,
    state_names: Sequence[str] | None = None,
    env_names: Sequence[str] | None = None,
    action_names: Sequence[str] | None = None,
    num_steps: int | None = None,
    jacobian_free: bool = False,
    prior_std: float = 1.0,
    seed: int | None = None,
) -> FlowPolicy:
    """Load a checkpoint directory or ``builtin:NAME``; raises FileNotFoundError or ValueError."""
    net = load_net(path)
    label = str(path).removeprefix(BUILTIN_PREFIX) if str(path).startswith(BUILTIN_PREFIX) else Path(path).name
    return FlowPolicy(net, state_names=state_names, env_names=env_names, action_names=action_names,
                      num_steps=num_steps, jacobian_free=jacobian_free, prior_std=prior_std, seed=seed,
                      name=f"flow:{label}")
