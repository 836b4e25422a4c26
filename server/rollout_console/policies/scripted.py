"""A scripted expert for the sim task: pick the cube, place it on the target, go home.

Stateless: every call infers where it is in the task from the observation (joint state and the
``env.*`` task state), so it recovers from pauses, human corrections and missed grasps. It plans
Cartesian waypoints, turns them into joint targets with inverse kinematics and samples them at a
bounded speed into a chunk of ``chunk_size`` actions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..features import ENV_STATE, STATE
from ..hardware.sim.kinematics import HOME, JOINT_NAMES, clip_joints, forward_kinematics, inverse_kinematics
from ..hardware.sim.world import GRASP_CLOSE_BELOW, OBJECT_SIZE

__all__ = ["ScriptedExpert"]

HOVER_Z = 0.07
GRASP_Z = OBJECT_SIZE / 2
PLACE_Z = OBJECT_SIZE / 2 + 0.01
OPEN = 70.0
CLOSED = 0.0
_XY_TOL = 0.012
_LOW_Z = 0.045
_ENV_KEYS = ("env.object_x", "env.object_y", "env.object_z", "env.target_x", "env.target_y", "env.grasped")
_HOME_VECTOR = np.array([HOME[n] for n in JOINT_NAMES])


@dataclass(frozen=True)
class _Waypoint:
    """A fingertip position (None = the home pose) with a gripper opening, held for ``dwell`` ticks."""

    position: tuple[float, float, float] | None
    gripper: float
    dwell: int = 0


class ScriptedExpert:
    """Solves the sim task; needs the robot's ``env.*`` features (only the sim provides them)."""

    name = "scripted_expert"

    def __init__(self, state_names: Sequence[str], env_names: Sequence[str], action_names: Sequence[str],
                 fps: float, chunk_size: int = 50, speed_m_s: float = 0.12,
                 max_joint_speed_deg_s: float = 60.0, gripper_speed_per_s: float = 150.0) -> None:
        expected_joints = [f"{j}.pos" for j in JOINT_NAMES]
        if list(action_names) != expected_joints or list(state_names) != expected_joints:
            raise ConfigError("the scripted expert drives the sim SO-101 only (joint names differ)",
                              flag="--policy.type")
        missing = [k for k in _ENV_KEYS if k not in env_names]
        if missing:
            raise ConfigError(f"the scripted expert needs the sim task state {missing}; it only runs on "
                              "--robot.type=sim", flag="--policy.type")
        self._env_index = [list(env_names).index(k) for k in _ENV_KEYS]
        self.chunk_size = chunk_size
        self.action_names = tuple(action_names)
        self._step_m = speed_m_s / fps
        self._joint_step = max_joint_speed_deg_s / fps
        self._gripper_step = gripper_speed_per_s / fps
        self._dwell = max(1, int(round(0.25 * fps)))

    def reset(self) -> None:
        """Nothing to forget: the expert is stateless."""

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray:
        q = np.asarray(observation[STATE], dtype=np.float64)
        env = np.asarray(observation[ENV_STATE], dtype=np.float64)[self._env_index]
        waypoints = self._plan(q, env)
        return self._sample(q, waypoints).astype(np.float32)

    # -------------------------------------------------------------- planning

    def _plan(self, q: np.ndarray, env: np.ndarray) -> list[_Waypoint]:
        tip = forward_kinematics(q).tip
        gripper = q[-1]
        obj = env[0:3]
        target = env[3:5]
        grasped = env[5] > 0.5
        obj_xy = (float(obj[0]), float(obj[1]))
        tgt_xy = (float(target[0]), float(target[1]))
        home = _Waypoint(None, 20.0)
        place = [
            _Waypoint((*tgt_xy, HOVER_Z), CLOSED),
            _Waypoint((*tgt_xy, PLACE_Z), CLOSED),
            _Waypoint((*tgt_xy, PLACE_Z), OPEN, self._dwell),
            _Waypoint((*tgt_xy, HOVER_Z), OPEN),
            home,
        ]
        if grasped:
            if _near(tip, tgt_xy) and tip[2] < _LOW_Z:
                return place[2:]
            if _near(tip, tgt_xy, 0.02):
                return place[1:]
            lift = _Waypoint((float(tip[0]), float(tip[1]), HOVER_Z), CLOSED)
            return ([lift] if tip[2] < HOVER_Z - 0.01 else []) + place
        on_target = np.hypot(*(obj[:2] - target)) < 0.03 and obj[2] <= OBJECT_SIZE
        if on_target:
            retreat = [_Waypoint((float(tip[0]), float(tip[1]), HOVER_Z), OPEN)] if tip[2] < HOVER_Z - 0.01 else []
            return [*retreat, home]
        pick = [
            _Waypoint((*obj_xy, HOVER_Z), OPEN),
            _Waypoint((*obj_xy, GRASP_Z), OPEN),
            _Waypoint((*obj_xy, GRASP_Z), CLOSED, self._dwell),
            _Waypoint((*obj_xy, HOVER_Z), CLOSED),
        ]
        if _near(tip, obj_xy) and tip[2] < _LOW_Z and gripper > GRASP_CLOSE_BELOW + 5:
            return pick[2:] + place
        if _near(tip, obj_xy, 0.02) and gripper > GRASP_CLOSE_BELOW + 5:
            return pick[1:] + place
        return pick + place

    # -------------------------------------------------------------- sampling

    def _sample(self, q: np.ndarray, waypoints: list[_Waypoint]) -> np.ndarray:
        rows: list[np.ndarray] = []
        current = q.copy()
        position = forward_kinematics(q).tip
        first = True
        for wp in waypoints:
            if len(rows) >= self.chunk_size:
                break
            goal = self._joints_for(wp, current)
            if first or wp.position is None:
                rows.extend(self._joint_segment(current, goal))
            else:
                rows.extend(self._cartesian_segment(position, current, wp, goal))
            rows.extend([goal.copy() for _ in range(wp.dwell)])
            current = goal
            position = forward_kinematics(goal).tip
            first = False
        while len(rows) < self.chunk_size:
            rows.append(current.copy())
        return np.stack(rows[: self.chunk_size])

    def _joints_for(self, wp: _Waypoint, current: np.ndarray) -> np.ndarray:
        if wp.position is None:
            goal = _HOME_VECTOR.copy()
        else:
            solution = inverse_kinematics(*wp.position)
            goal = current.copy() if solution is None else np.array([*solution, 0.0, current[-1]])
        goal[-1] = wp.gripper
        return clip_joints(goal)

    def _joint_segment(self, start: np.ndarray, goal: np.ndarray) -> list[np.ndarray]:
        steps = self._steps_for(float(np.abs(goal[:-1] - start[:-1]).max()) / self._joint_step, start, goal)
        return [start + (goal - start) * (i / steps) for i in range(1, steps + 1)]

    def _cartesian_segment(self, start_pos: np.ndarray, start_q: np.ndarray, wp: _Waypoint,
                           goal: np.ndarray) -> list[np.ndarray]:
        assert wp.position is not None
        end = np.array(wp.position)
        steps = self._steps_for(float(np.linalg.norm(end - start_pos)) / self._step_m, start_q, goal)
        rows = []
        for i in range(1, steps + 1):
            frac = i / steps
            point = start_pos + (end - start_pos) * frac
            solution = inverse_kinematics(*point)
            row = start_q + (goal - start_q) * frac
            if solution is not None:
                row[:4] = solution
            rows.append(clip_joints(row))
        return rows

    def _steps_for(self, motion_steps: float, start: np.ndarray, goal: np.ndarray) -> int:
        gripper_steps = abs(goal[-1] - start[-1]) / self._gripper_step
        return max(1, int(np.ceil(max(motion_steps, gripper_steps))))


def _near(tip: np.ndarray, xy: tuple[float, float], tol: float = _XY_TOL) -> bool:
    return bool(np.hypot(tip[0] - xy[0], tip[1] - xy[1]) <= tol)
