"""Trains the flow-matching chunk policy on a LeRobotDataset v3 (``rollout-console train``).

    rollout-console train --dataset.root=DIR --output_dir=DIR [--steps=4000] [--batch_size=256]
                          [--image=false] [--dataset.image_key=observation.images.top] ...

Writes ``config.json`` and ``model.safetensors`` into ``--output_dir`` (a directory ``--policy.path``
accepts). Errors in flags or data exit with status 2 and name the flag.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from typing import Literal
from pathlib import Path

import numpy as np
import torch
from pydantic import Field, model_validator

from ...config.base import StrictModel
from ...errors import ConfigError
from .cli_flags import model_help, parse_model_flags
from .config import CONFIG_FILE, WEIGHTS_FILE, FlowConfig
from .dataset import ChunkDataset, load_dataset
from .model import FlowNet
from .policy import FlowPolicy, save_checkpoint

__all__ = ["TrainConfig", "main", "train"]

_STATE_STD_FLOOR = 0.5  # joint units: a joint that never moved in the data must not explode inputs
_ENV_STD_FLOOR = 1e-3
_ACTION_STD_FLOOR = 0.5


class DatasetOptions(StrictModel):
    root: str = Field(..., description="LeRobotDataset v3 directory (meta/info.json, data/...)")
    image_key: str | None = Field(None, description="Camera used when --image=true (default: the first one)")


class TrainConfig(StrictModel):
    """Options of ``rollout-console train``."""

    dataset: DatasetOptions
    output_dir: str = Field(..., description="Where config.json and model.safetensors are written")
    overwrite: bool = Field(False, description="Replace a checkpoint already in --output_dir")
    steps: int = Field(4000, ge=1, le=10_000_000, description="Optimiser steps")
    batch_size: int = Field(256, ge=1, le=65536, description="Samples per step")
    lr: float = Field(1e-3, gt=0, le=1, description="Peak learning rate (AdamW, cosine decay)")
    warmup_steps: int = Field(100, ge=0, description="Linear learning-rate warm-up")
    weight_decay: float = Field(1e-4, ge=0, description="AdamW weight decay")
    chunk_size: int = Field(50, ge=1, le=1000, description="Actions per predicted chunk (H)")
    num_inference_steps: int = Field(10, ge=1, le=1000, description="Euler steps when sampling")
    prediction: Literal["sample", "velocity"] = Field(
        "sample", description="Network output: the clean chunk (sample) or the flow velocity")
    hidden_dim: int = Field(256, ge=8, le=4096, description="Width of the residual stream")
    block_dim: int = Field(384, ge=8, le=8192, description="Width inside each residual block")
    num_blocks: int = Field(3, ge=1, le=32, description="Residual blocks")
    cond_dim: int = Field(128, ge=8, le=4096, description="Width of the observation/time conditioning")
    image: bool = Field(False, description="Also condition on one low-resolution camera image")
    image_height: int = Field(48, ge=8, le=512, description="Height the camera image is resized to")
    image_width: int = Field(64, ge=8, le=512, description="Width the camera image is resized to")
    seed: int = Field(0, description="Seed of initialisation and sampling")
    threads: int | None = Field(None, ge=1, le=256, description="torch CPU threads (default: torch's)")
    log_every: int = Field(200, ge=1, description="Print the loss every this many steps")
    progress: bool = Field(True, description="Show a progress bar")
    eval_episodes: int = Field(0, ge=0, le=10_000, description="After training, closed-loop sim episodes to try")

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.dataset.image_key is not None and not self.image:
            raise ValueError("--dataset.image_key needs --image=true")
        return self


def _std(values: np.ndarray, floor: float) -> np.ndarray:
    return np.maximum(values.std(axis=0), floor).astype(np.float32)


def build_net(config: TrainConfig, data: ChunkDataset) -> FlowNet:
    flow_config = FlowConfig(
        state_names=data.state_names, env_names=data.env_names, action_names=data.action_names,
        chunk_size=config.chunk_size, num_inference_steps=config.num_inference_steps, prediction=config.prediction,
        hidden_dim=config.hidden_dim, block_dim=config.block_dim, num_blocks=config.num_blocks,
        cond_dim=config.cond_dim, image_key=data.image_key,
        image_size=(config.image_height, config.image_width), fps=data.fps,
    )
    net = FlowNet(flow_config)
    net.set_stats({
        "state": (torch.from_numpy(data.state.mean(0)), torch.from_numpy(_std(data.state, _STATE_STD_FLOOR))),
        "env": (torch.from_numpy(data.env.mean(0)), torch.from_numpy(_std(data.env, _ENV_STD_FLOOR))),
        "action": (torch.from_numpy(data.action.mean(0)), torch.from_numpy(_std(data.action, _ACTION_STD_FLOOR))),
    })
    return net


def train(config: TrainConfig, data: ChunkDataset | None = None, log: bool = True) -> tuple[FlowNet, list[float]]:
    """Train and save; returns the network and the loss of every step."""
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    if data is None:
        image_key = None
        if config.image:
            image_key = config.dataset.image_key or _first_camera(config.dataset.root)
        data = load_dataset(config.dataset.root, image_key=image_key,
                            image_size=(config.image_height, config.image_width))
    if len(data) == 0:
        raise ValueError(f"{config.dataset.root}: the dataset has no frames")
    net = build_net(config, data)
    net.train()
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    def lr_at(step: int) -> float:
        if step < config.warmup_steps:
            return config.lr * (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
        return config.lr * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))

    state_t = torch.from_numpy(data.state)
    env_t = torch.from_numpy(data.env)
    with torch.no_grad():
        actions_norm = net.normalize_actions(torch.from_numpy(data.action))
    images_t = torch.from_numpy(data.images) if data.images is not None else None
    losses: list[float] = []
    bar = None
    if config.progress:
        from tqdm import tqdm

        bar = tqdm(total=config.steps, desc="train", unit="step", dynamic_ncols=True, file=sys.stderr)
    started = time.perf_counter()
    smoothed: float | None = None
    for step in range(config.steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        rows = rng.integers(0, len(data), size=config.batch_size)
        chunk_rows = torch.from_numpy(data.chunk_rows(rows, config.chunk_size))
        rows_t = torch.from_numpy(rows)
        image = images_t[rows_t].float() / 255.0 if images_t is not None else None
        cond = net.encode(state_t[rows_t], env_t[rows_t], image)
        loss = net.loss(cond, actions_norm[chunk_rows], generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        value = float(loss.detach())
        losses.append(value)
        smoothed = value if smoothed is None else 0.98 * smoothed + 0.02 * value
        if bar is not None:
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{smoothed:.4f}", lr=f"{lr_at(step):.1e}")
        elif log and (step % config.log_every == 0 or step == config.steps - 1):
            print(f"step {step:>6}  loss {smoothed:.4f}", flush=True)
    if bar is not None:
        bar.close()
    net.eval()
    tail = losses[-min(len(losses), 100):]
    net.config.training = {
        "dataset": str(config.dataset.root), "episodes": data.num_episodes, "frames": len(data),
        "steps": config.steps, "batch_size": config.batch_size, "lr": config.lr, "seed": config.seed,
        "final_loss": round(float(np.mean(tail)), 5), "seconds": round(time.perf_counter() - started, 1),
    }
    save_checkpoint(net, config.output_dir)
    return net, losses


def _first_camera(root: str) -> str:
    import json

    features = json.loads((Path(root) / "meta" / "info.json").read_text()).get("features", {})
    cameras = [k for k, v in features.items() if v.get("dtype") in ("image", "video")]
    if not cameras:
        raise ConfigError(f"{root} has no camera feature", flag="--image")
    return cameras[0]


def main(argv: Sequence[str] | None = None) -> int:
    """``rollout-console train``: returns 0 on success, 2 on a bad flag or unusable dataset."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        sys.stdout.write(model_help(TrainConfig, "rollout-console train"))
        return 0
    try:
        config = parse_model_flags(TrainConfig, args)
        out = Path(config.output_dir)
        if (out / WEIGHTS_FILE).exists() or (out / CONFIG_FILE).exists():
            if not config.overwrite:
                raise ConfigError(f"{out} already holds a checkpoint (add --overwrite=true to replace it)",
                                  flag="--output_dir")
        if out.exists() and not out.is_dir():
            raise ConfigError(f"{out} is not a directory", flag="--output_dir")
        try:
            image_key = None
            if config.image:
                image_key = config.dataset.image_key or _first_camera(config.dataset.root)
            data = load_dataset(config.dataset.root, image_key=image_key,
                                image_size=(config.image_height, config.image_width))
        except (FileNotFoundError, ValueError) as exc:
            flag = "--dataset.image_key" if config.image and "camera" in str(exc) else "--dataset.root"
            raise ConfigError(str(exc), flag=flag) from None
        if len(data) == 0:
            raise ConfigError("the dataset has no frames", flag="--dataset.root")
    except ConfigError as exc:
        print(f"rollout-console train: error: {exc}", file=sys.stderr)
        return 2
    print(f"training on {data.num_episodes} episodes, {len(data)} frames "
          f"({'image ' + str(data.image_key) if data.image_key else 'no image'}) -> {config.output_dir}", flush=True)
    net, losses = train(config, data)
    print(f"saved {config.output_dir} (final loss {net.config.training['final_loss']})", flush=True)
    if config.eval_episodes:
        from .sim_eval import evaluate_in_sim

        policy = FlowPolicy(net, seed=config.seed)
        result = evaluate_in_sim(policy, episodes=config.eval_episodes, fps=data.fps)
        print(f"closed-loop sim: {result.summary()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
