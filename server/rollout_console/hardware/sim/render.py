"""OpenCV drawings of the sim scene from three fixed views (front, top, side); RGB images.

Projections are simple (orthographic with a little obliqueness) so one frame costs about a
millisecond at 640x480: the static part (table, grid, target) is drawn once per scene and copied.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from .kinematics import ArmPose, forward_kinematics
from .world import OBJECT_SIZE, TARGET_RADIUS, SimState

__all__ = ["SceneRenderer", "label_box", "unproject_top"]

Point = tuple[int, int]
Projection = Callable[[np.ndarray], Point]

_TABLE = (214, 206, 190)
_GRID = (196, 188, 172)
_SKY = (70, 80, 96)
_TARGET = (60, 170, 90)
_OBJECT = (220, 70, 50)
_OBJECT_GRASPED = (240, 150, 40)
_LINK = (245, 140, 30)
_BASE = (40, 44, 52)
_JOINT = (30, 30, 30)
_TEXT = (255, 255, 255)
_LABEL_BOX = (20, 22, 28)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def label_box(text: str, width: int, height: int, top: int = 0) -> tuple[tuple[int, int, int, int], Point, float]:
    """Where a burned-in label goes: its box (x0, y0, x1, y1), the text origin and the font scale.

    The scale follows the image height (0.55 at 480 px) and shrinks until the text fits the width, so a
    label is never cut off, whatever the camera resolution (a 160x120 sim camera included).
    """
    pad = max(2, height // 120)
    scale = min(1.2, max(0.3, 0.55 * height / 480))
    (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, scale, 1)
    while text_w + 4 * pad > width and scale > 0.2:
        scale *= 0.9
        (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, scale, 1)
    x0, y0 = pad, top + pad
    box = (x0, y0, min(width, x0 + text_w + 2 * pad), y0 + text_h + baseline + 2 * pad)
    return box, (x0 + pad, y0 + pad + text_h), scale


def _projection(view: str, width: int, height: int) -> Projection:
    if view == "top":
        s = height / 0.55

        def top(p: np.ndarray) -> Point:
            return int(width / 2 - p[1] * s), int(height * 0.86 - p[0] * s)

        return top
    if view == "side":
        s = height / 0.62

        def side(p: np.ndarray) -> Point:
            return int(width * 0.30 + p[0] * s), int(height * 0.88 - p[2] * s + p[1] * s * 0.25)

        return side
    s = height / 0.62

    def front(p: np.ndarray) -> Point:
        return int(width / 2 + p[1] * s), int(height * 0.80 - p[2] * s - p[0] * s * 0.30)

    return front


def unproject_top(u: float, v: float, width: int, height: int) -> tuple[float, float]:
    """World (x, y) on the table under pixel (u, v) of the top view (the inverse of its projection)."""
    s = height / 0.55
    return (height * 0.86 - v) / s, (width / 2 - u) / s


class SceneRenderer:
    """Renders one view; caches the static background per scene."""

    def __init__(self, view: str, width: int, height: int) -> None:
        self.view = view
        self.width = width
        self.height = height
        self._project = _projection(view, width, height)
        self._thickness = max(2, height // 60)
        self._cache_key: tuple[int, float, float] | None = None
        self._background = np.zeros((height, width, 3), dtype=np.uint8)

    def render(self, state: SimState) -> np.ndarray:
        key = (state.scene_index, float(state.target_pos[0]), float(state.target_pos[1]))
        if key != self._cache_key:
            self._background = self._draw_background(state)
            self._cache_key = key
        image = self._background.copy()
        pose = forward_kinematics(state.q)
        self._draw_object(image, state)
        self._draw_arm(image, pose, state.q[-1])
        if state.grasped:
            self._draw_object(image, state)
        bottom = self._draw_label(image, f"{self.view} t={state.elapsed:.2f}s", _TEXT, top=0)
        if state.success:
            self._draw_label(image, "SUCCESS", _TARGET, top=bottom)
        return image

    def _draw_label(self, image: np.ndarray, text: str, color: tuple[int, int, int], top: int) -> int:
        """Burn ``text`` in at the top left on a dark box, scaled to fit the image; returns the box's bottom."""
        (x0, y0, x1, y1), origin, scale = label_box(text, self.width, self.height, top)
        if y1 > self.height:
            return top  # no room left (a tiny image): skip rather than clip
        cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), _LABEL_BOX, -1)
        cv2.putText(image, text, origin, _FONT, scale, color, 1, cv2.LINE_AA)
        return y1

    # ------------------------------------------------------------------ parts

    def _draw_background(self, state: SimState) -> np.ndarray:
        image = np.empty((self.height, self.width, 3), dtype=np.uint8)
        image[:] = _SKY
        p = self._project
        corners = [np.array(c) for c in ((-0.12, -0.40, 0), (0.45, -0.40, 0), (0.45, 0.40, 0), (-0.12, 0.40, 0))]
        cv2.fillPoly(image, [np.array([p(c) for c in corners], dtype=np.int32)], _TABLE)
        for x in np.arange(-0.1, 0.45, 0.05):
            cv2.line(image, p(np.array([x, -0.40, 0])), p(np.array([x, 0.40, 0])), _GRID, 1)
        for y in np.arange(-0.40, 0.41, 0.05):
            cv2.line(image, p(np.array([-0.12, y, 0])), p(np.array([0.45, y, 0])), _GRID, 1)
        circle = [
            p(np.array([state.target_pos[0] + TARGET_RADIUS * np.cos(a),
                        state.target_pos[1] + TARGET_RADIUS * np.sin(a), 0.0]))
            for a in np.linspace(0, 2 * np.pi, 32)
        ]
        cv2.fillPoly(image, [np.array(circle, dtype=np.int32)], _TARGET, cv2.LINE_AA)
        return image

    def _draw_object(self, image: np.ndarray, state: SimState) -> None:
        half = OBJECT_SIZE / 2
        c = state.object_pos
        color = _OBJECT_GRASPED if state.grasped else _OBJECT
        faces = [
            [(-half, -half, half), (half, -half, half), (half, half, half), (-half, half, half)],
            [(-half, -half, -half), (-half, half, -half), (-half, half, half), (-half, -half, half)],
            [(half, -half, -half), (half, half, -half), (half, half, half), (half, -half, half)],
            [(-half, -half, -half), (half, -half, -half), (half, -half, half), (-half, -half, half)],
            [(-half, half, -half), (half, half, -half), (half, half, half), (-half, half, half)],
        ]
        for shade, face in zip((1.0, 0.75, 0.85, 0.65, 0.9), faces, strict=True):
            pts = np.array([self._project(c + np.array(v)) for v in face], dtype=np.int32)
            cv2.fillConvexPoly(image, pts, tuple(int(ch * shade) for ch in color), cv2.LINE_AA)

    def _draw_arm(self, image: np.ndarray, pose: ArmPose, gripper: float) -> None:
        p = self._project
        t = self._thickness
        cv2.line(image, p(pose.base), p(pose.shoulder), _BASE, t * 3, cv2.LINE_AA)
        cv2.line(image, p(pose.shoulder), p(pose.elbow), _LINK, t * 2, cv2.LINE_AA)
        cv2.line(image, p(pose.elbow), p(pose.wrist), _LINK, t * 2, cv2.LINE_AA)
        cv2.line(image, p(pose.wrist), p(pose.tip - pose.hand_dir * 0.03), _BASE, t, cv2.LINE_AA)
        side = np.array([-np.sin(pose.pan_rad), np.cos(pose.pan_rad), 0.0])
        opening = 0.006 + 0.028 * (gripper / 100.0)
        palm = pose.tip - pose.hand_dir * 0.03
        for sign in (-1.0, 1.0):
            root = palm + side * opening * sign
            cv2.line(image, p(palm), p(root), _BASE, t, cv2.LINE_AA)
            cv2.line(image, p(root), p(root + pose.hand_dir * 0.035), _BASE, t, cv2.LINE_AA)
        for joint in (pose.shoulder, pose.elbow, pose.wrist):
            cv2.circle(image, p(joint), t + 2, _JOINT, -1, cv2.LINE_AA)
