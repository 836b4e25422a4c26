"""Helpers for the LeRobot tests: capture what the recorder was given, read it back with LeRobot, compare."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from rollout_console.recording import CompressedImage
from rollout_console.runtime import builder


@dataclass
class Episode:
    task: str
    frames: list[dict[str, Any]] = field(default_factory=list)


class Tee:
    """Wraps an EpisodeRecorder's methods and keeps a copy of every frame of every saved episode."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.saved: list[Episode] = []
        self.current: Episode | None = None
        self._lock = threading.Lock()
        start, add, save, discard = (recorder.start_episode, recorder.add_frame, recorder.save_episode,
                                     recorder.discard_episode)

        def start_episode(task: str, prefix_frames: Any = None) -> int:
            with self._lock:
                self.current = Episode(task, [_copy(f) for f in prefix_frames or []])
            return start(task, prefix_frames)

        def add_frame(frame: dict[str, Any]) -> None:
            with self._lock:
                if self.current is None:  # the recorder opens an episode itself on a first frame
                    self.current = Episode(self._last_task())
                self.current.frames.append(_copy(frame))
            add(frame)

        def save_episode(extra: Any = None) -> Any:
            with self._lock:
                if self.current is not None and self.current.frames:
                    self.saved.append(self.current)
                self.current = None
            return save(extra)

        def discard_episode(reason: str | None = None) -> bool:
            with self._lock:
                self.current = None
            return discard(reason)

        recorder.start_episode, recorder.add_frame = start_episode, add_frame
        recorder.save_episode, recorder.discard_episode = save_episode, discard_episode

    def _last_task(self) -> str:
        return self.saved[-1].task if self.saved else ""


def _copy(frame: dict[str, Any]) -> dict[str, Any]:
    """A frame as the recorder will store it (ring-buffer JPEGs decoded, arrays copied)."""
    copied = {}
    for key, value in frame.items():
        if isinstance(value, CompressedImage):
            value = value.decode()
        copied[key] = np.array(value, copy=True) if isinstance(value, np.ndarray) else value
    return copied


@contextlib.contextmanager
def built_session(cfg: Any, *, robot: Any = None, teleop: Any = None,
                  engine: Callable[[Any, Any], Any] | None = None, hub_api: Any = None,
                  prepare: Callable[[Any], None] | None = None) -> Iterator[Any]:
    """``build_session`` with some parts replaced (a LeRobot robot, leader or policy engine), started,
    and always shut down; the recorder (if any) is wrapped in a Tee available as ``session.tee``;
    ``prepare(session)`` runs before the start."""
    originals = (builder.make_robot, builder.make_teleop, builder.build_engine)
    try:
        if robot is not None:
            builder.make_robot = lambda config: robot
        if teleop is not None:
            builder.make_teleop = lambda config: teleop
        if engine is not None:
            builder.build_engine = engine
        session = builder.build_session(cfg, hub_api=hub_api)
    finally:
        builder.make_robot, builder.make_teleop, builder.build_engine = originals
    session.tee = Tee(session.recording.recorder) if session.recording is not None else None
    if prepare is not None:
        prepare(session)
    session.start()
    try:
        yield session
    finally:
        session.shutdown()


def read_back(root: Path, repo_id: str) -> LeRobotDataset:
    """Open the dataset with LeRobot's own reader (video backend torchcodec)."""
    dataset = LeRobotDataset(repo_id, root=root, video_backend="torchcodec")
    assert dataset._video_backend == "torchcodec"  # LeRobot 0.6 keeps it private
    return dataset


def episode_bounds(dataset: LeRobotDataset) -> list[tuple[int, int]]:
    episodes = dataset.meta.episodes
    return [(int(a), int(b)) for a, b in zip(episodes["dataset_from_index"], episodes["dataset_to_index"],
                                             strict=True)]


def image_error(decoded: Any, recorded: np.ndarray) -> float:
    """Mean absolute difference (0..255) between LeRobot's (C, H, W) float image and our HWC uint8 one."""
    array = decoded.permute(1, 2, 0).numpy() * 255.0
    return float(np.abs(array - recorded.astype(np.float32)).mean())


def compare(dataset: LeRobotDataset, episodes: list[Episode], fps: float, max_image_error: float,
            intervention: bool = False) -> dict[str, float]:
    """Every frame LeRobot reads against the frame the recorder was given; returns image error stats."""
    bounds = episode_bounds(dataset)
    assert len(bounds) == len(episodes) == dataset.num_episodes
    assert dataset.num_frames == sum(len(e.frames) for e in episodes)
    assert dataset.fps == fps
    camera_keys = list(dataset.meta.video_keys)
    errors: list[float] = []
    expected_start = 0
    for index, (episode, (start, stop)) in enumerate(zip(episodes, bounds, strict=True)):
        assert (start, stop) == (expected_start, expected_start + len(episode.frames)), (index, start, stop)
        expected_start = stop
        for i, recorded in enumerate(episode.frames):
            item = dataset[start + i]
            assert int(item["episode_index"]) == index and int(item["frame_index"]) == i
            assert int(item["index"]) == start + i
            assert float(item["timestamp"]) == np.float32(i / fps)
            assert item["task"] == episode.task
            for key in ("observation.state", "action", "observation.environment_state"):
                if key in recorded:
                    np.testing.assert_array_equal(item[key].numpy(), recorded[key], err_msg=f"{key} {index}/{i}")
            if intervention:
                assert bool(item["intervention"]) == bool(recorded["intervention"])
            else:
                assert "intervention" not in item
            for key in camera_keys:
                assert tuple(item[key].shape) == (3, *recorded[key].shape[:2])
                errors.append(image_error(item[key], recorded[key]))
    assert errors, "no camera frames compared"
    assert max(errors) <= max_image_error, f"worst frame differs by {max(errors):.2f}/255"
    return {"mean": float(np.mean(errors)), "max": float(max(errors)), "frames": float(len(errors))}


def save_act(out: Path, inputs: dict[str, tuple[int, ...]], action_dim: int, stats: dict | None = None,
             chunk_size: int = 10) -> Path:
    """A small ACT with random weights (no backbone download) saved with its processors, as lerobot-train
    would leave it: config.json, model.safetensors, policy_preprocessor*.json/.safetensors."""
    from lerobot.configs.types import FeatureType, PolicyFeature
    from lerobot.policies.act.configuration_act import ACTConfig
    from lerobot.policies.act.modeling_act import ACTPolicy
    from lerobot.policies.factory import make_pre_post_processors

    def kind(key: str) -> FeatureType:
        if key.startswith("observation.images."):
            return FeatureType.VISUAL
        return FeatureType.ENV if key == "observation.environment_state" else FeatureType.STATE

    torch.manual_seed(0)
    config = ACTConfig(
        input_features={key: PolicyFeature(type=kind(key), shape=shape) for key, shape in inputs.items()},
        output_features={"action": PolicyFeature(type=FeatureType.ACTION, shape=(action_dim,))},
        pretrained_backbone_weights=None, device="cpu", chunk_size=chunk_size, n_action_steps=chunk_size,
        dim_model=64, dim_feedforward=128, n_heads=4, n_encoder_layers=1, n_decoder_layers=1, n_vae_encoder_layers=1,
    )
    policy = ACTPolicy(config)
    preprocessor, postprocessor = make_pre_post_processors(config, dataset_stats=stats)
    for part in (policy, preprocessor, postprocessor):
        part.save_pretrained(out)
    return out
