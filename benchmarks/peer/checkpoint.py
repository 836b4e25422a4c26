"""A random-weight ACT for the peer arm, saved as ``lerobot-train`` leaves it, and its latency per chunk.

LeRobot's ``ACTConfig`` defaults (ResNet-18 backbone, dim_model 512, 4 encoder layers, ...) apart from the
pretrained backbone download (``pretrained_backbone_weights=None``: random weights, offline), with two
480x640 cameras (front, top), the six joints as state and action, chunk 50 and ``n_action_steps`` 50, and
normalisation stats, written with its pre/post processors (config.json, model.safetensors,
policy_preprocessor*.json, policy_postprocessor*.json).

    .venv-lerobot/bin/python -m benchmarks.peer.checkpoint OUT_DIR [--measure=5]

prints one JSON line: the path, and the measured latency (s) of each ``predict_action_chunk`` on this CPU.
Runs only in the LeRobot environment.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

CAMERAS = ("front", "top")
HEIGHT, WIDTH = 480, 640
JOINTS = 6
CHUNK = 50


def build(out: Path, seed: int = 0, height: int = HEIGHT, width: int = WIDTH, **overrides: Any) -> Path:
    """Build and save the checkpoint; ``overrides`` change ACTConfig fields (the tests make a tiny one)."""
    from lerobot.configs.types import FeatureType, PolicyFeature
    from lerobot.policies.act.configuration_act import ACTConfig
    from lerobot.policies.act.modeling_act import ACTPolicy
    from lerobot.policies.factory import make_pre_post_processors

    torch.manual_seed(seed)
    inputs = {"observation.state": PolicyFeature(type=FeatureType.STATE, shape=(JOINTS,))}
    for camera in CAMERAS:
        inputs[f"observation.images.{camera}"] = PolicyFeature(type=FeatureType.VISUAL, shape=(3, height, width))
    config = ACTConfig(input_features=inputs,
                       output_features={"action": PolicyFeature(type=FeatureType.ACTION, shape=(JOINTS,))},
                       **{"pretrained_backbone_weights": None, "device": "cpu", "chunk_size": CHUNK,
                          "n_action_steps": CHUNK, **overrides})
    joints = {"mean": np.array([0.0, -10.0, 10.0, 30.0, 0.0, 20.0], np.float32),
              "std": np.full(JOINTS, 20.0, np.float32)}
    stats: dict[str, dict[str, np.ndarray]] = {"observation.state": dict(joints), "action": dict(joints)}
    for camera in CAMERAS:  # ImageNet statistics, as for a ResNet backbone
        stats[f"observation.images.{camera}"] = {
            "mean": np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1),
            "std": np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1)}
    policy = ACTPolicy(config)
    preprocessor, postprocessor = make_pre_post_processors(config, dataset_stats=stats)
    out.mkdir(parents=True, exist_ok=True)
    for part in (policy, preprocessor, postprocessor):
        part.save_pretrained(out)
    return out


def measure(path: Path, runs: int) -> list[float]:
    """Seconds per ``predict_action_chunk`` of the saved checkpoint on one observation (after a warm-up)."""
    from lerobot.policies.act.modeling_act import ACTPolicy

    policy = ACTPolicy.from_pretrained(path).eval()
    batch = {"observation.state": torch.zeros(1, JOINTS)}
    for camera in CAMERAS:
        batch[f"observation.images.{camera}"] = torch.rand(1, 3, HEIGHT, WIDTH)
    seconds = []
    with torch.inference_mode():
        policy.predict_action_chunk(batch)
        for _ in range(runs):
            start = time.perf_counter()
            policy.predict_action_chunk(batch)
            seconds.append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--measure", type=int, default=0, help="time this many chunks after building")
    parser.add_argument("--torch_threads", type=int, default=0, help="torch threads while measuring (0: torch's)")
    args = parser.parse_args(argv)
    if not (args.out / "model.safetensors").exists():
        build(args.out)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    latencies = measure(args.out, args.measure) if args.measure else []
    print(json.dumps({"path": str(args.out), "latency_s": latencies, "torch_threads": torch.get_num_threads()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
