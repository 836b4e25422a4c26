"""Closed-loop success of a policy on the sim task, on a fake clock (deterministic, fast).

The policy is run the way the sync engine runs it: predict a chunk from the current observation,
execute its first ``n_action_steps`` actions one per tick, repeat. An episode is one scene of a fresh
SimWorld (arm at home), counted as solved when the world reports success within ``max_episode_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...features import ENV_STATE, IMAGE_PREFIX, STATE
from ...hardware.sim.world import SimWorld
from ..protocol import Policy

__all__ = ["SimEvalResult", "evaluate_in_sim"]


@dataclass
class SimEvalResult:
    episodes: int
    successes: int
    times_s: list[float]

    @property
    def success_rate(self) -> float:
        return self.successes / self.episodes if self.episodes else 0.0

    def summary(self) -> str:
        mean = f", mean time to success {np.mean(self.times_s):.2f} s" if self.times_s else ""
        return f"{self.successes}/{self.episodes} solved ({100 * self.success_rate:.0f} %){mean}"


def evaluate_in_sim(policy: Policy, episodes: int = 20, seed: int = 1000, fps: float = 30.0,
                    n_action_steps: int = 20, max_episode_s: float = 20.0) -> SimEvalResult:
    image_key = getattr(getattr(policy, "config", None), "image_key", None)
    renderer = None
    if image_key:
        from ...hardware.sim.render import SceneRenderer

        renderer = SceneRenderer(image_key.removeprefix(IMAGE_PREFIX), 160, 120)
    successes, times = 0, []
    for episode in range(episodes):
        world = SimWorld(seed=seed + episode, start_time=0.0, reset_after_success_s=0.0)
        policy.reset()
        queue: list[np.ndarray] = []
        for k in range(int(max_episode_s * fps)):
            now = k / fps
            q = world.read_joints(now)
            snap = world.snapshot()
            if snap.success:
                successes += 1
                times.append(now)
                break
            if not queue:
                frame = {
                    STATE: q.astype(np.float32),
                    ENV_STATE: np.array([*snap.object_pos, *snap.target_pos, float(snap.grasped)], np.float32),
                    "task": "",
                }
                if renderer is not None and image_key:
                    frame[image_key] = renderer.render(snap)
                queue = list(policy.predict_chunk(frame)[:n_action_steps])
            world.set_goal(queue.pop(0), now)
    return SimEvalResult(episodes, successes, times)
