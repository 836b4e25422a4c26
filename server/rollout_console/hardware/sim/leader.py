"""SimLeaderArm: a virtual leader arm the operator moves from the page (or a script, or the expert).

It behaves like an actuated leader (e.g. an SO-101 leader with torque): it follows the targets it is
given at a bounded speed, and it can be driven to the follower's pose (alignment on pause).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

import numpy as np

from ...config.hardware import SimTeleopConfig
from ...errors import DeviceNotConnectedError, HardwareError
from ..protocols import FeatureSpec
from .kinematics import HOME, JOINT_LIMITS, JOINT_NAMES, clip_joints, forward_kinematics, inverse_kinematics

__all__ = ["SimLeaderArm"]

_KEYS = tuple(f"{j}.pos" for j in JOINT_NAMES)


class SimLeaderArm:
    """A DrivableLeader: the Teleoperator protocol plus ``set_targets``/``set_tip``/``align_to``/``state``."""

    name = "sim_leader"

    def __init__(self, config: SimTeleopConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._q = np.array([HOME[n] for n in JOINT_NAMES], dtype=np.float64)
        self._target = self._q.copy()
        self._time = clock()
        self._connected = False
        self.moved_by: str | None = None  # who set the current target: page, api, expert, align

    def __str__(self) -> str:
        return "sim leader arm"

    @property
    def action_features(self) -> dict[str, FeatureSpec]:
        return {key: float for key in _KEYS}

    @property
    def joint_limits(self) -> dict[str, tuple[float, float]]:
        return {f"{name}.pos": JOINT_LIMITS[name] for name in JOINT_NAMES}

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        self._connected = True

    def disconnect(self) -> None:
        self._connected = False

    def _advance(self) -> None:
        now = self._clock()
        dt = max(0.0, now - self._time)
        self._time = now
        step = self.config.max_speed_deg_s * dt
        self._q = self._q + np.clip(self._target - self._q, -step, step)

    def get_action(self) -> dict[str, float]:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self}: not connected")
        with self._lock:
            self._advance()
            return {key: float(v) for key, v in zip(_KEYS, self._q, strict=True)}

    # ------------------------------------------------------------- driving

    def set_targets(self, joints: Mapping[str, float], moved_by: str = "api") -> dict[str, float]:
        """Move some or all joints towards new positions; returns the (clipped) targets."""
        unknown = set(joints) - set(_KEYS)
        if unknown:
            raise HardwareError(f"{self}: unknown joints {sorted(unknown)}; expected {list(_KEYS)}")
        with self._lock:
            self._advance()
            target = self._target.copy()
            for i, key in enumerate(_KEYS):
                if key in joints:
                    value = float(joints[key])
                    if not math.isfinite(value):
                        raise HardwareError(f"{self}: {key} must be a finite number")
                    target[i] = value
            self._target = clip_joints(target)
            self.moved_by = moved_by
            return {key: float(v) for key, v in zip(_KEYS, self._target, strict=True)}

    def set_tip(self, x: float, y: float, z: float | None = None, gripper: float | None = None,
                moved_by: str = "api", clamp: bool = False) -> dict[str, float]:
        """Move the fingertip to (x, y, z) metres, pointing down (z defaults to the current height).

        ``clamp`` (drags) goes as far as the arm reaches towards the point instead of refusing it.
        """
        with self._lock:
            current = forward_kinematics(self._target).tip
        height = float(current[2]) if z is None else z
        solution = inverse_kinematics(x, y, height)
        if solution is None and clamp:
            solution = _nearest_reachable(x, y, height)
        if solution is None:
            raise HardwareError(f"{self}: ({x:.3f}, {y:.3f}, {height:.3f}) m is out of reach")
        joints = dict(zip(_KEYS[:4], solution, strict=True))
        if gripper is not None:
            joints["gripper.pos"] = gripper
        return self.set_targets(joints, moved_by)

    def align_to(self, joints: Mapping[str, float]) -> None:
        """Drive the leader to the follower's pose (called on pause so takeover starts aligned)."""
        self.set_targets({k: v for k, v in joints.items() if k in _KEYS}, moved_by="align")

    def state(self) -> dict[str, object]:
        with self._lock:
            self._advance()
            tip = forward_kinematics(self._q).tip
            return {
                "name": self.name,
                "joints": {key: round(float(v), 3) for key, v in zip(_KEYS, self._q, strict=True)},
                "targets": {key: round(float(v), 3) for key, v in zip(_KEYS, self._target, strict=True)},
                "tip": [round(float(v), 4) for v in tip],
                "moving": bool(np.max(np.abs(self._target - self._q)) > 0.05),
                "moved_by": self.moved_by,
                "driver": self.config.driver,
            }


def _nearest_reachable(x: float, y: float, z: float) -> tuple[float, float, float, float] | None:
    """IK for the reachable point closest to (x, y) along the line from the base, at height z.

    The reachable set at one height is an annulus, so scan from the far end inwards; if nothing at
    that height is reachable, fall back to a comfortable working height above the table.
    """
    for height in (z, 0.07):
        for step in range(100, 0, -1):
            solution = inverse_kinematics(x * step / 100, y * step / 100, height)
            if solution is not None:
                return solution
    return None
