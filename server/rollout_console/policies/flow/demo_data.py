"""Scripted-expert demonstrations in the sim, written as a minimal LeRobotDataset v3 on disk.

Used by the tests (training fixtures) and to produce the builtin checkpoint; it is not the console's
dataset writer. The world runs on a fake clock (no cameras unless ``image_view`` is set, then one
low-resolution rendered view is stored as PNG ``image`` features in the parquet, as v3 allows).

Each episode's expert moves at a random speed (not observable from one observation: the data are
multimodal, as real demonstrations are). Demonstrations are made robust to the learner's own mistakes DART-style: the executed command is the
expert action plus smooth noise, the recorded action is the clean expert action. Episodes start from
where the previous one ended or from a random arm pose. Only successful episodes are kept.

    python -m rollout_console.policies.flow.demo_data --root=DIR [--episodes=200] [--seed=0]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field, ValidationError

from ...config.base import StrictModel
from ...errors import ConfigError
from ...features import ACTION, ENV_STATE, IMAGE_PREFIX, STATE
from ...hardware.sim.kinematics import HOME, JOINT_LIMITS, JOINT_NAMES
from ...hardware.sim.robot import ENV_FEATURES
from ...hardware.sim.world import SimWorld
from ..scripted import ScriptedExpert
from .cli_flags import parse_model_flags

__all__ = ["DemoConfig", "Episode", "generate_demos", "main", "rollout_expert", "sim_observation", "write_dataset"]

JOINTS = tuple(f"{name}.pos" for name in JOINT_NAMES)
TASK = "pick up the cube and place it on the target"


class DemoConfig(StrictModel):
    """Options of the demonstration generator (also its command-line flags)."""

    root: str = Field(..., description="Output directory of the dataset (must not exist or be empty)")
    episodes: int = Field(200, ge=1, le=100_000, description="Successful episodes to record")
    seed: int = Field(0, description="Seed of scenes, noise and start poses")
    fps: float = Field(30.0, gt=0, le=200, description="Recording and control rate")
    chunk_steps_min: int = Field(6, ge=1, description="Fewest expert actions executed per expert chunk")
    chunk_steps_max: int = Field(20, ge=1, description="Most expert actions executed per expert chunk")
    speed_min: float = Field(0.07, gt=0, description="Slowest expert speed (m/s); one speed per episode")
    speed_max: float = Field(0.16, gt=0, description="Fastest expert speed (m/s)")
    noise_deg: float = Field(1.5, ge=0, description="Std-dev of the smooth noise added to executed commands")
    random_start: float = Field(0.5, ge=0, le=1, description="Fraction of episodes starting from a random pose")
    slip_prob: float = Field(0.25, ge=0, le=1, description="Fraction of episodes where the executed gripper "
                             "command is forced open for a moment while carrying (teaches recovery)")
    post_success_s: float = Field(1.0, ge=0, description="Seconds recorded after the success (retreat)")
    max_episode_s: float = Field(20.0, gt=0, description="An episode not solved by then is dropped")
    image_view: str | None = Field(None, description="Also store this rendered view (front, top, side)")
    image_height: int = Field(48, ge=8, le=480, description="Height of the stored image")
    image_width: int = Field(64, ge=8, le=640, description="Width of the stored image")


@dataclass
class Episode:
    state: np.ndarray  # (T, 6)
    env: np.ndarray  # (T, 6)
    action: np.ndarray  # (T, 6)
    images: np.ndarray | None = None  # (T, h, w, 3) uint8

    def __len__(self) -> int:
        return len(self.action)


def sim_observation(world: SimWorld, now: float) -> tuple[np.ndarray, np.ndarray]:
    """Joint state and task state (the SimRobot's ``env.*`` order) at ``now``."""
    q = world.read_joints(now)
    snap = world.snapshot()
    env = np.array([*snap.object_pos, *snap.target_pos, float(snap.grasped)], dtype=np.float32)
    return q.astype(np.float32), env


def _random_pose(rng: np.random.Generator) -> np.ndarray:
    home = np.array([HOME[n] for n in JOINT_NAMES])
    spread = np.array([50.0, 25.0, 30.0, 25.0, 0.0, 30.0])
    q = home + rng.uniform(-1.0, 1.0, size=6) * spread
    low = np.array([JOINT_LIMITS[n][0] for n in JOINT_NAMES])
    high = np.array([JOINT_LIMITS[n][1] for n in JOINT_NAMES])
    return np.clip(q, low, high)


def make_expert(config: DemoConfig, rng: np.random.Generator) -> ScriptedExpert:
    """The scripted expert at a random speed: the speed is not observable from one observation, so the
    demonstrations are genuinely multimodal (what real-time chunking has to keep consistent)."""
    fraction = float(rng.uniform())
    speed = config.speed_min + fraction * (config.speed_max - config.speed_min)
    return ScriptedExpert(JOINTS, ENV_FEATURES, JOINTS, fps=config.fps, speed_m_s=speed,
                          max_joint_speed_deg_s=40.0 + 40.0 * fraction)


def rollout_expert(world: SimWorld, expert: ScriptedExpert, start_time: float, config: DemoConfig,
                   rng: np.random.Generator, renderer: object | None = None) -> tuple[Episode | None, float]:
    """Run one episode from ``start_time``; returns (episode or None if unsolved, end time)."""
    fps = config.fps
    states, envs, actions, images = [], [], [], []
    queue: list[np.ndarray] = []
    noise = np.zeros(6)
    rho = 0.9  # smooth (AR(1)) noise, stationary std = noise_deg
    success_tick: int | None = None
    slip_left = 0
    will_slip = rng.random() < config.slip_prob
    max_ticks = int(config.max_episode_s * fps)
    post_ticks = int(round(config.post_success_s * fps))
    t = start_time
    for k in range(max_ticks):
        t = start_time + k / fps
        q, env = sim_observation(world, t)
        if renderer is not None:
            frame = renderer.render(world.snapshot())  # type: ignore[attr-defined]
            images.append(cv2.resize(frame, (config.image_width, config.image_height), interpolation=cv2.INTER_AREA))
        if not queue:
            steps = int(rng.integers(config.chunk_steps_min, config.chunk_steps_max + 1))
            chunk = expert.predict_chunk({STATE: q, ENV_STATE: env})
            queue = list(chunk[:steps])
        action = queue.pop(0)
        noise = rho * noise + np.sqrt(1 - rho**2) * rng.normal(0.0, config.noise_deg, size=6)
        noise[4] = 0.0  # wrist roll is not used by the task
        command = action + noise
        if will_slip and env[5] > 0.5 and rng.random() < 0.03:
            will_slip, slip_left = False, int(rng.integers(5, 15))
        if slip_left > 0:  # the executed gripper opens; the recorded (expert) action does not
            slip_left -= 1
            command[5] = 80.0
        world.set_goal(command, t)
        states.append(q)
        envs.append(env)
        actions.append(action.astype(np.float32))
        if success_tick is None and world.snapshot().success:
            success_tick = k
        if success_tick is not None and k - success_tick >= post_ticks:
            break
    end = t + 1.0 / fps
    if success_tick is None:
        return None, end
    return Episode(np.stack(states), np.stack(envs), np.stack(actions),
                   np.stack(images) if renderer is not None else None), end


def generate_demos(config: DemoConfig, progress: bool = False) -> Path:
    """Record ``config.episodes`` successful expert episodes and write them as a v3 dataset."""
    root = Path(config.root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise FileExistsError(f"{root} exists and is not empty")
    rng = np.random.default_rng(config.seed)
    world = SimWorld(seed=config.seed, start_time=0.0, reset_after_success_s=0.0)
    renderer = None
    if config.image_view:
        from ...hardware.sim.render import SceneRenderer

        renderer = SceneRenderer(config.image_view, 160, 120)
    episodes: list[Episode] = []
    t = 0.0
    attempts = 0
    bar = _progress(config.episodes, progress)
    while len(episodes) < config.episodes:
        attempts += 1
        if attempts > 3 * config.episodes + 10:
            raise RuntimeError(f"the expert solved only {len(episodes)} of {attempts} episodes")
        world.reset_scene()
        if rng.random() < config.random_start:
            world.set_goal(_random_pose(rng), t)
            t += 1.5
        episode, t = rollout_expert(world, make_expert(config, rng), t, config, rng, renderer)
        if episode is not None:
            episodes.append(episode)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    image_key = f"{IMAGE_PREFIX}{config.image_view}" if config.image_view else None
    return write_dataset(Path(config.root), episodes, config.fps, image_key=image_key)


def _progress(total: int, enabled: bool):  # noqa: ANN202
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="demos", unit="ep")


def _list_column(rows: np.ndarray) -> pa.Array:
    flat = pa.array(np.ascontiguousarray(rows, dtype=np.float32).reshape(-1))
    offsets = pa.array(np.arange(0, rows.size + 1, rows.shape[1], dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, flat)


def _stats(values: np.ndarray) -> dict[str, list[float]]:
    return {
        "mean": values.mean(0).tolist(), "std": values.std(0).tolist(), "min": values.min(0).tolist(),
        "max": values.max(0).tolist(), "count": [int(len(values))],
    }


def write_dataset(root: Path, episodes: Sequence[Episode], fps: float, image_key: str | None = None,
                  robot_type: str = "sim_so101", task: str = TASK) -> Path:
    """Write a minimal LeRobotDataset v3 (one data file, one episodes file, info, stats, tasks)."""
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} exists and is not empty")
    (root / "meta" / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
    (root / "data" / "chunk-000").mkdir(parents=True, exist_ok=True)
    state = np.concatenate([e.state for e in episodes])
    env = np.concatenate([e.env for e in episodes])
    action = np.concatenate([e.action for e in episodes])
    lengths = [len(e) for e in episodes]
    episode_index = np.concatenate([np.full(n, i, dtype=np.int64) for i, n in enumerate(lengths)])
    frame_index = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths])
    columns: dict[str, pa.Array] = {
        STATE: _list_column(state),
        ENV_STATE: _list_column(env),
        ACTION: _list_column(action),
        "timestamp": pa.array((frame_index / fps).astype(np.float32)),
        "frame_index": pa.array(frame_index),
        "episode_index": pa.array(episode_index),
        "index": pa.array(np.arange(len(action), dtype=np.int64)),
        "task_index": pa.array(np.zeros(len(action), dtype=np.int64)),
    }
    features: dict[str, dict] = {
        STATE: {"dtype": "float32", "shape": [6], "names": list(JOINTS)},
        ENV_STATE: {"dtype": "float32", "shape": [6], "names": list(ENV_FEATURES)},
        ACTION: {"dtype": "float32", "shape": [6], "names": list(JOINTS)},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        "frame_index": {"dtype": "int64", "shape": [1], "names": None},
        "episode_index": {"dtype": "int64", "shape": [1], "names": None},
        "index": {"dtype": "int64", "shape": [1], "names": None},
        "task_index": {"dtype": "int64", "shape": [1], "names": None},
    }
    if image_key is not None:
        frames = np.concatenate([e.images for e in episodes if e.images is not None])
        encoded = [cv2.imencode(".png", cv2.cvtColor(f, cv2.COLOR_RGB2BGR))[1].tobytes() for f in frames]
        columns[image_key] = pa.StructArray.from_arrays(
            [pa.array(encoded, pa.binary()), pa.array([None] * len(encoded), pa.string())], names=["bytes", "path"])
        height, width = frames.shape[1:3]
        features[image_key] = {"dtype": "image", "shape": [int(height), int(width), 3],
                               "names": ["height", "width", "channels"]}
    pq.write_table(pa.table(columns), root / "data" / "chunk-000" / "file-000.parquet")
    starts = np.cumsum([0, *lengths])
    pq.write_table(pa.table({
        "episode_index": pa.array(np.arange(len(lengths), dtype=np.int64)),
        "tasks": pa.array([[task]] * len(lengths), pa.list_(pa.string())),
        "length": pa.array(np.array(lengths, dtype=np.int64)),
        "data/chunk_index": pa.array(np.zeros(len(lengths), dtype=np.int64)),
        "data/file_index": pa.array(np.zeros(len(lengths), dtype=np.int64)),
        "dataset_from_index": pa.array(starts[:-1].astype(np.int64)),
        "dataset_to_index": pa.array(starts[1:].astype(np.int64)),
        "meta/episodes/chunk_index": pa.array(np.zeros(len(lengths), dtype=np.int64)),
        "meta/episodes/file_index": pa.array(np.zeros(len(lengths), dtype=np.int64)),
    }), root / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    pq.write_table(pa.table({"task_index": pa.array([0], pa.int64()), "task": pa.array([task])}),
                   root / "meta" / "tasks.parquet")
    stats = {STATE: _stats(state), ENV_STATE: _stats(env), ACTION: _stats(action)}
    (root / "meta" / "stats.json").write_text(json.dumps(stats, indent=2))
    info = {
        "codebase_version": "v3.0",
        "robot_type": robot_type,
        "total_episodes": len(lengths),
        "total_frames": int(len(action)),
        "total_tasks": 1,
        "chunks_size": 1000,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": fps,
        "splits": {"train": f"0:{len(lengths)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": None,
        "features": features,
    }
    (root / "meta" / "info.json").write_text(json.dumps(info, indent=2))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        config = parse_model_flags(DemoConfig, args)
        path = generate_demos(config, progress=True)
    except ConfigError as exc:
        print(f"demo_data: error: {exc}", file=sys.stderr)
        return 2
    except (FileExistsError, ValidationError) as exc:
        print(f"demo_data: error: --root: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {config.episodes} episodes to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
