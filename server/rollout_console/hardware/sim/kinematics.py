"""SO-101-like arm geometry: joint names, limits, forward and inverse kinematics.

Angles are degrees, lengths metres. The arm stands at the origin; ``shoulder_pan`` turns it about
the vertical axis; ``shoulder_lift``, ``elbow_flex`` and ``wrist_flex`` bend it in its vertical plane.
Angle conventions (all in that plane, measured from straight up, positive = forward/down):
    upper arm direction   = shoulder_lift
    forearm direction     = shoulder_lift + elbow_flex
    gripper direction     = shoulder_lift + elbow_flex + wrist_flex   (180 = pointing straight down)
``gripper.pos`` is 0 (closed) .. 100 (open), as LeRobot's SO-101 gripper range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "HOME",
    "JOINT_LIMITS",
    "JOINT_NAMES",
    "ArmPose",
    "clip_joints",
    "forward_kinematics",
    "inverse_kinematics",
]

JOINT_NAMES: tuple[str, ...] = (
    "shoulder_pan",
    "shoulder_lift",
    "elbow_flex",
    "wrist_flex",
    "wrist_roll",
    "gripper",
)

JOINT_LIMITS: dict[str, tuple[float, float]] = {
    "shoulder_pan": (-110.0, 110.0),
    "shoulder_lift": (-100.0, 100.0),
    "elbow_flex": (-120.0, 130.0),
    "wrist_flex": (-110.0, 115.0),
    "wrist_roll": (-160.0, 160.0),
    "gripper": (0.0, 100.0),
}

BASE_HEIGHT = 0.10  # shoulder axis above the table
UPPER_ARM = 0.116
FOREARM = 0.135
HAND = 0.10  # wrist axis to fingertip centre

HOME: dict[str, float] = {
    "shoulder_pan": 0.0,
    "shoulder_lift": -5.0,
    "elbow_flex": 95.0,
    "wrist_flex": 90.0,
    "wrist_roll": 0.0,
    "gripper": 20.0,
}

_LOWER = np.array([JOINT_LIMITS[n][0] for n in JOINT_NAMES])
_UPPER = np.array([JOINT_LIMITS[n][1] for n in JOINT_NAMES])


def clip_joints(q: np.ndarray) -> np.ndarray:
    """Clip a joint vector (JOINT_NAMES order) to the limits."""
    return np.clip(q, _LOWER, _UPPER)


@dataclass(frozen=True, slots=True)
class ArmPose:
    """World positions of the arm's key points, for rendering and grasp checks (x forward, z up)."""

    base: np.ndarray
    shoulder: np.ndarray
    elbow: np.ndarray
    wrist: np.ndarray
    tip: np.ndarray
    pan_rad: float
    hand_dir: np.ndarray  # unit vector wrist -> tip


def forward_kinematics(q: np.ndarray) -> ArmPose:
    """Key points of the arm for a joint vector in JOINT_NAMES order (degrees)."""
    pan, lift, elbow, wrist = (math.radians(v) for v in q[:4])
    a1 = lift
    a2 = lift + elbow
    a3 = lift + elbow + wrist

    def planar(r: float, z: float) -> np.ndarray:
        return np.array([r * math.cos(pan), r * math.sin(pan), z])

    r1, z1 = UPPER_ARM * math.sin(a1), BASE_HEIGHT + UPPER_ARM * math.cos(a1)
    r2, z2 = r1 + FOREARM * math.sin(a2), z1 + FOREARM * math.cos(a2)
    r3, z3 = r2 + HAND * math.sin(a3), z2 + HAND * math.cos(a3)
    wrist_point = planar(r2, z2)
    tip = planar(r3, z3)
    direction = tip - wrist_point
    return ArmPose(
        base=np.zeros(3),
        shoulder=planar(0.0, BASE_HEIGHT),
        elbow=planar(r1, z1),
        wrist=wrist_point,
        tip=tip,
        pan_rad=pan,
        hand_dir=direction / (np.linalg.norm(direction) or 1.0),
    )


def inverse_kinematics(x: float, y: float, z: float) -> tuple[float, float, float, float] | None:
    """Joint angles (pan, lift, elbow, wrist) that put the fingertip at (x, y, z) pointing down.

    Returns None when the point is out of reach or the solution would break a joint limit (a clipped
    solution would silently put the fingertip somewhere else). Picks the elbow-up solution.
    """
    pan = math.degrees(math.atan2(y, x))
    r = math.hypot(x, y)
    wr, wz = r, z + HAND - BASE_HEIGHT  # wrist point relative to the shoulder axis
    d2 = wr * wr + wz * wz
    cos_elbow = (d2 - UPPER_ARM**2 - FOREARM**2) / (2 * UPPER_ARM * FOREARM)
    if not -1.0 <= cos_elbow <= 1.0:
        return None
    elbow = math.acos(cos_elbow)
    direction = math.atan2(wr, wz)  # angle of the shoulder->wrist line from vertical
    lift = direction - math.atan2(FOREARM * math.sin(elbow), UPPER_ARM + FOREARM * math.cos(elbow))
    lift_d, elbow_d = math.degrees(lift), math.degrees(elbow)
    wrist_d = 180.0 - lift_d - elbow_d
    solution = (pan, lift_d, elbow_d, wrist_d)
    for name, value in zip(JOINT_NAMES[:4], solution, strict=True):
        low, high = JOINT_LIMITS[name]
        if not low - 1e-9 <= value <= high + 1e-9:
            return None
    return solution
