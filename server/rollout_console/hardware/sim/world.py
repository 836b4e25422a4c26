"""The simulated world: joint dynamics, the object, the target zone and the task's success.

Dynamics: each joint moves towards its goal as a first-order lag with time constant ``tau``,
rate-limited to ``max_speed`` deg/s. Time advances in fixed 2 ms substeps up to the time given by the
caller, so the same call times and seed give bit-identical states (the clock is injectable).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from .kinematics import HOME, JOINT_NAMES, clip_joints, forward_kinematics

__all__ = ["OBJECT_SIZE", "TARGET_RADIUS", "SimState", "SimWorld"]

OBJECT_SIZE = 0.03  # cube edge, metres
TARGET_RADIUS = 0.045
GRASP_RADIUS = 0.03
GRASP_CLOSE_BELOW = 35.0  # gripper.pos below which closing fingers catch the cube
RELEASE_ABOVE = 50.0
_SUBSTEP_S = 0.002


@dataclass(frozen=True, slots=True)
class SimState:
    """Immutable snapshot of the world for rendering and observations."""

    time: float
    elapsed: float
    q: np.ndarray
    goal: np.ndarray
    object_pos: np.ndarray
    target_pos: np.ndarray
    grasped: bool
    success: bool
    scene_index: int


class SimWorld:
    """Thread-safe world state; every public method takes the lock."""

    def __init__(
        self,
        *,
        seed: int,
        start_time: float,
        max_speed_deg_s: float = 180.0,
        time_constant_s: float = 0.05,
        noise_deg: float = 0.0,
        reset_after_success_s: float = 2.0,
    ) -> None:
        self._lock = threading.Lock()
        self._rng = np.random.default_rng(seed)
        self._noise_rng = np.random.default_rng(seed + 1)
        self._max_speed = max_speed_deg_s
        self._tau = time_constant_s
        self._noise = noise_deg
        self._reset_after = reset_after_success_s
        self._time = start_time
        self._start = start_time
        self._q = np.array([HOME[n] for n in JOINT_NAMES], dtype=np.float64)
        self._goal = self._q.copy()
        self._prev_gripper = self._q[-1]
        self._grasped = False
        self._success_at: float | None = None
        self._scene_index = -1
        self._scene_started = start_time
        self._results: list[dict[str, float | int | bool | None]] = []
        self._object = np.zeros(3)
        self._target = np.zeros(2)
        self._new_scene()

    # ------------------------------------------------------------------ scene

    def _new_scene(self) -> None:
        self._scene_index += 1
        self._scene_started = self._time
        self._success_at = None
        self._grasped = False
        while True:
            obj = self._sample_point()
            target = self._sample_point()
            if np.linalg.norm(obj - target) >= 0.10:
                break
        self._object = np.array([obj[0], obj[1], OBJECT_SIZE / 2])
        self._target = target

    def _sample_point(self) -> np.ndarray:
        r = self._rng.uniform(0.15, 0.22)
        a = math.radians(self._rng.uniform(-55.0, 55.0))
        return np.array([r * math.cos(a), r * math.sin(a)])

    def reset_scene(self, seed: int | None = None) -> None:
        """Start a new attempt: re-randomise object and target (the arm stays where it is).

        With ``seed`` the layout comes from that seed alone (an evaluation puts every policy in front of
        the same scenes); without it, from the world's own sequence.
        """
        with self._lock:
            self._close_attempt(success=False)
            if seed is not None:
                self._rng = np.random.default_rng(seed)
            self._new_scene()

    def _close_attempt(self, success: bool) -> None:
        duration = (self._success_at if success and self._success_at else self._time) - self._scene_started
        self._results.append({"scene": self._scene_index, "success": success,
                              "time_to_success_s": duration if success else None})

    # ---------------------------------------------------------------- dynamics

    def advance(self, now: float) -> None:
        with self._lock:
            self._advance_locked(now)

    def _advance_locked(self, now: float) -> None:
        while self._time + _SUBSTEP_S <= now:
            self._step(_SUBSTEP_S)
        if self._success_at is not None and self._reset_after > 0:
            if self._time - self._success_at >= self._reset_after:
                self._close_attempt(success=True)
                self._new_scene()

    def _step(self, dt: float) -> None:
        alpha = 1.0 - math.exp(-dt / self._tau)
        delta = (self._goal - self._q) * alpha
        limit = self._max_speed * dt
        self._q = self._q + np.clip(delta, -limit, limit)
        self._time += dt
        self._update_object()

    def _update_object(self) -> None:
        gripper = self._q[-1]
        tip = forward_kinematics(self._q).tip
        if self._grasped:
            if gripper > RELEASE_ABOVE:
                self._grasped = False
                self._object = np.array([tip[0], tip[1], OBJECT_SIZE / 2])  # drops onto the table
            else:
                self._object = tip.copy()
        else:
            closing = self._prev_gripper >= GRASP_CLOSE_BELOW > gripper
            near = np.linalg.norm(tip - self._object) <= GRASP_RADIUS
            if closing and near:
                self._grasped = True
        self._prev_gripper = gripper
        if self._success_at is None and not self._grasped:
            on_target = np.linalg.norm(self._object[:2] - self._target) <= TARGET_RADIUS
            if on_target and self._object[2] <= OBJECT_SIZE:
                self._success_at = self._time

    # ------------------------------------------------------------------ I/O

    def set_goal(self, goal: np.ndarray, now: float) -> np.ndarray:
        """Set joint goals (JOINT_NAMES order); returns them clipped to the joint limits."""
        with self._lock:
            self._advance_locked(now)
            self._goal = clip_joints(np.asarray(goal, dtype=np.float64))
            return self._goal.copy()

    def read_joints(self, now: float) -> np.ndarray:
        with self._lock:
            self._advance_locked(now)
            q = self._q.copy()
            if self._noise > 0:
                q = q + self._noise_rng.normal(0.0, self._noise, size=q.shape)
            return q

    def snapshot(self, now: float | None = None) -> SimState:
        with self._lock:
            if now is not None:
                self._advance_locked(now)
            return SimState(
                time=self._time,
                elapsed=self._time - self._start,
                q=self._q.copy(),
                goal=self._goal.copy(),
                object_pos=self._object.copy(),
                target_pos=self._target.copy(),
                grasped=self._grasped,
                success=self._success_at is not None,
                scene_index=self._scene_index,
            )

    def task_status(self) -> dict[str, object]:
        """Success of the current attempt and the outcome of finished ones."""
        with self._lock:
            done = list(self._results)
            successes = [r for r in done if r["success"]]
            return {
                "scene": self._scene_index,
                "success": self._success_at is not None,
                "elapsed_s": self._time - self._scene_started,
                "time_to_success_s": (self._success_at - self._scene_started) if self._success_at else None,
                "attempts": len(done),
                "successes": len(successes),
                "success_rate": round(len(successes) / len(done), 3) if done else None,
                "recent": done[-10:],  # the last finished attempts: success and time to success each
            }
