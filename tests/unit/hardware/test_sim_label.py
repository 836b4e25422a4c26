"""The sim cameras' burned-in label (view and time) is never cut off, whatever the camera resolution."""

from __future__ import annotations

import numpy as np
import pytest
from rollout_console.hardware.sim.render import SceneRenderer, label_box
from rollout_console.hardware.sim.world import SimWorld


@pytest.mark.parametrize(("width", "height"), [(64, 48), (160, 120), (320, 240), (640, 480), (1920, 1080),
                                               (3840, 2160), (120, 160)])
@pytest.mark.parametrize("text", ["front t=0.00s", "side t=123456.78s", "top t=7.83s", "SUCCESS"])
def test_the_label_box_fits_inside_the_image(width: int, height: int, text: str) -> None:
    (x0, y0, x1, y1), (ox, oy), scale = label_box(text, width, height)
    assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (x0, y0, x1, y1)
    assert x0 <= ox and oy <= y1 and scale > 0


def test_the_label_is_drawn_on_a_dark_box_at_the_top_left() -> None:
    state = SimWorld(seed=0, start_time=0.0).snapshot()
    image = SceneRenderer("top", 160, 120).render(state)
    (x0, y0, x1, y1), _, _ = label_box(f"top t={state.elapsed:.2f}s", 160, 120)
    box = image[y0:y1, x0:x1]
    # mostly the dark box with some white text: readable on the light table of the top view
    assert (box.max(axis=2) < 40).mean() > 0.5 and box.max() > 200
    assert x1 <= 160  # the whole label is inside the frame
    assert np.any(image[y1:, :] != image[y0, x0])  # the scene is still drawn below it
