"""Console observation -> server observation: ``rename_map`` keys, optional image resize.

The console's policy frame uses LeRobot names (``observation.state``,
``observation.images.<camera>``, ``observation.environment_state``, ``task``). A server expects its
own (openpi's DROID example: ``observation/exterior_image_1_left``, ``observation/joint_position``,
``prompt``). ``--policy.rename_map`` maps one to the other with the same meaning as for LeRobot
checkpoints (console key -> policy key; keys not named pass through unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

from ...features import IMAGE_PREFIX

__all__ = ["ObservationMapper", "resize_with_pad"]


def resize_with_pad(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Fit ``image`` (H, W, C uint8) into height x width keeping its aspect ratio; pad with black
    (what openpi's clients do before sending)."""
    h, w = image.shape[:2]
    if (h, w) == (height, width):
        return image
    scale = min(height / h, width / w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if resized.ndim == 2:
        resized = resized[:, :, None]
    out = np.zeros((height, width, image.shape[2] if image.ndim == 3 else 1), dtype=image.dtype)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    out[top:top + new_h, left:left + new_w] = resized
    return out


class ObservationMapper:
    """Builds the observation map sent to the server from the console's policy frame."""

    def __init__(self, rename_map: Mapping[str, str], image_size: tuple[int, int] | None = None) -> None:
        self.rename_map = dict(rename_map)
        self.image_size = image_size

    def server_key(self, key: str) -> str:
        return self.rename_map.get(key, key)

    def unknown_sources(self, available: list[str]) -> list[str]:
        """rename_map entries whose console key this robot never produces (a typo, a missing camera)."""
        return sorted(key for key in self.rename_map if key not in available)

    def __call__(self, frame: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in frame.items():
            if key.startswith(IMAGE_PREFIX) and self.image_size is not None and isinstance(value, np.ndarray):
                value = resize_with_pad(value, *self.image_size)
            out[self.server_key(key)] = value
        return out
