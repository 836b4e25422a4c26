"""A tablet-only operator corrects a DAgger run by touch, in both orientations (issue 15, item 6).

Real Chromium with a touch screen; the touches are real input events (CDP ``Input.dispatchTouchEvent``),
not synthetic DOM events: Take Over, a finger drag on the top camera and a finger on a joint slider steer
the simulated leader, the follower follows (read from ``/api/v1/status``), Hand Back holds.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from helpers import cli_server, dataset_flags, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, CDPSession, Page, expect

pytestmark = pytest.mark.e2e
PHASE = '[data-testid="phase"]'
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "tablet-correction"
ORIENTATIONS = {"landscape": {"width": 1024, "height": 768}, "portrait": {"width": 768, "height": 1024}}
FOLLOW_DEG = 4.0  # the follower tracks the leader to within this (the sim arm settles well inside it)


@pytest.fixture
def dagger(tmp_path):
    flags = dataset_flags(tmp_path / "dagger", "dagger", "--return_to_initial_position=false",
                          "--server.exit_when_stopped=false", "--teleop.handover=none")
    with cli_server(*PAGE_FLAGS, *flags) as (url, _):
        yield url


def _status(url: str) -> dict:
    return httpx.get(url + "/api/v1/status", timeout=30).json()


def _leader(url: str) -> dict:
    return httpx.get(url + "/api/v1/teleop", timeout=30).json()


def _follower_joints(url: str) -> dict[str, float]:
    return _status(url)["robot"]["joints"]


def _gap(a: dict[str, float], b: dict[str, float], names) -> float:
    return max(abs(a[name] - b[name]) for name in names)


def _touch_drag(cdp: CDPSession, start: tuple[float, float], end: tuple[float, float], steps: int = 12) -> None:
    """One finger down at ``start``, moved in ``steps`` to ``end``, lifted: real touch input to the page."""
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": start[0], "y": start[1]}]})
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i / steps
        y = start[1] + (end[1] - start[1]) * i / steps
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def _tap(cdp: CDPSession, page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    point = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    _touch_drag(cdp, point, point, steps=0)


def _inside(box: dict, viewport: dict) -> bool:
    return (box["x"] >= -0.5 and box["y"] >= -0.5 and box["x"] + box["width"] <= viewport["width"] + 0.5
            and box["y"] + box["height"] <= viewport["height"] + 0.5)


def _overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] - 0.5 and b["x"] < a["x"] + a["width"] - 0.5
            and a["y"] < b["y"] + b["height"] - 0.5 and b["y"] < a["y"] + a["height"] - 0.5)


def _rendered_thumb_height(page: Page) -> int:
    """The thumb's height as drawn (CSS px at scale 1): the rows of its white rim in a screenshot."""
    import cv2
    import numpy as np

    png = page.locator("[data-leader-joint]").first.screenshot()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    rows = np.flatnonzero((image > 225).all(axis=2).any(axis=1))
    return int(rows[-1] - rows[0] + 1) if rows.size else 0


def _thumb_centre(page: Page, joint: str) -> tuple[float, float, float]:
    """Where the thumb of ``joint``'s slider is now (x, y) and the track's usable width."""
    slider = page.locator(f'[data-leader-joint="{joint}"]')
    box = slider.bounding_box()
    assert box is not None
    low, high, value = (float(slider.get_attribute("min")), float(slider.get_attribute("max")),
                        float(slider.input_value()))
    thumb = 48.0
    usable = box["width"] - thumb
    x = box["x"] + thumb / 2 + (value - low) / (high - low) * usable
    return x, box["y"] + box["height"] / 2, usable


@pytest.mark.parametrize("orientation", sorted(ORIENTATIONS))
def test_a_tablet_corrects_by_touch(browser: Browser, dagger: str, orientation: str) -> None:
    url = dagger
    viewport = ORIENTATIONS[orientation]
    context = browser.new_context(viewport=viewport, has_touch=True, is_mobile=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(url + "/tablet")
        expect(page.locator(PHASE)).to_have_text("autonomous")
        teleop = page.locator('[data-testid="teleop"]')
        expect(teleop).to_be_hidden()  # only a correction needs the leader: the cameras keep the room
        _tap(cdp, page, '[data-command="pause"]')
        expect(page.locator(PHASE)).to_have_text("paused")
        _tap(cdp, page, '[data-command="takeover"]')
        expect(page.locator(PHASE)).to_have_text("correcting")
        expect(teleop).to_be_visible()
        expect(page.locator('[data-testid="teleop-driver"]')).to_contain_text("Drag on the top camera")

        page.wait_for_timeout(500)  # the layout settles (the cameras are refitted) before it is measured
        page.screenshot(path=str(ARTIFACTS / f"{orientation}-takeover.png"))
        # finger sized, on screen, and nothing pushed away or covered
        sliders = page.locator("[data-leader-joint]")
        assert sliders.count() == 6
        for i in range(sliders.count()):
            box = sliders.nth(i).bounding_box()
            assert box is not None and box["height"] >= 48 and box["width"] >= 150, box
            assert _inside(box, viewport), (orientation, sliders.nth(i).get_attribute("data-leader-joint"), box)
        assert _rendered_thumb_height(page) >= 48
        panel = teleop.bounding_box()
        for selector in ('[data-command="estop"]', '[data-command="handback"]', '[data-camera="top"] canvas'):
            box = page.locator(selector).bounding_box()
            assert box is not None and _inside(box, viewport), (orientation, selector, box)
            assert not _overlap(panel, box), (orientation, selector, panel, box)
        top = page.locator('[data-camera="top"] canvas').bounding_box()
        drawn = page.evaluate("""() => {  // the picture inside the (possibly letterboxed) canvas
            const c = document.querySelector('[data-camera="top"] canvas'); const r = c.getBoundingClientRect();
            const k = Math.min(r.width / c.width, r.height / c.height); return [c.width * k, c.height * k]; }""")
        assert drawn[0] >= 200 and drawn[1] >= 150, (orientation, drawn)  # a picture a finger can drag on

        # a finger drag on the top camera steers the leader; the follower follows
        before = _leader(url)
        names = list(before["targets"])
        centre = (top["x"] + top["width"] / 2, top["y"] + top["height"] / 2)
        start = (centre[0] - drawn[0] * 0.15, centre[1] - drawn[1] * 0.05)
        end = (centre[0] + drawn[0] * 0.15, centre[1] + drawn[1] * 0.05)
        _touch_drag(cdp, start, end)
        moved = wait_until(lambda: (lambda s: s if _gap(s["targets"], before["targets"], names) > 2 else None)(
            _leader(url)), timeout=30, message="the leader moved by the finger drag")
        assert moved["moved_by"].startswith("ws:")
        wait_until(lambda: _gap(_follower_joints(url), _leader(url)["joints"], names) < FOLLOW_DEG, timeout=30,
                   message="the follower to follow the dragged leader")
        page.screenshot(path=str(ARTIFACTS / f"{orientation}-correcting.png"))

        # a finger on a joint slider moves that joint
        joint = "shoulder_pan.pos"
        page.wait_for_timeout(300)  # let the slider show the leader's new target before touching it
        x, y, usable = _thumb_centre(page, joint)
        target_before = _leader(url)["targets"][joint]
        direction = -1 if x > page.locator(f'[data-leader-joint="{joint}"]').bounding_box()["x"] + usable / 2 else 1
        _touch_drag(cdp, (x, y), (x + direction * usable * 0.3, y))
        changed = wait_until(lambda: (lambda t: t if abs(t - target_before) > 5 else None)(
            _leader(url)["targets"][joint]), timeout=30, message="the slider moved the leader's joint")
        assert (changed - target_before) * direction > 0, "the joint moved the way the finger went"
        wait_until(lambda: abs(_follower_joints(url)[joint] - _leader(url)["joints"][joint]) < FOLLOW_DEG,
                   timeout=30, message="the follower to follow the slider")
        expect(page.locator(f'[data-leader-joint="{joint}"]')).not_to_be_focused()  # a lifted finger

        _tap(cdp, page, '[data-command="handback"]')
        expect(page.locator(PHASE)).to_have_text("paused")
        expect(teleop).to_be_hidden()
        assert _status(url)["phase"] == "paused"
    finally:
        context.close()

