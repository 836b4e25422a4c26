"""The operator page in Chromium against the real `rollout-console` command on the sim robot."""

from __future__ import annotations

import time

import pytest
from helpers import SMALL_CAMERAS, cli_server, free_port
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PHASE = '[data-testid="phase"]'


@pytest.fixture(scope="module")
def console():
    with cli_server(*SMALL_CAMERAS, "--return_duration_s=0.5", "--server.exit_when_stopped=false") as (url, proc):
        yield url


def _frames(page: Page, camera: str) -> int:
    return int(page.get_attribute(f'[data-camera="{camera}"]', "data-frames") or 0)


def _joints(page: Page) -> list[str]:
    return page.locator("[data-joint]").all_text_contents()


def _reset(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator('[data-testid="connection"]')).to_have_attribute("data-state", "connected")
    phase = page.text_content(PHASE)
    if phase in ("paused", "estopped"):
        page.click('[data-command="resume"]')
    expect(page.locator(PHASE)).to_have_text("autonomous")


def test_page_shows_live_cameras_phase_and_loop_health(page: Page, console: str) -> None:
    _reset(page, console)
    for camera in ("front", "top"):
        page.wait_for_function(f'Number(document.querySelector(\'[data-camera="{camera}"]\').dataset.frames) > 5')
        assert page.get_attribute(f'[data-camera="{camera}"]', "data-width") == "160"
    before = _frames(page, "front")
    page.wait_for_timeout(500)
    assert _frames(page, "front") > before, "camera frames stopped updating"
    expect(page.locator('[data-testid="loop-hz"]')).not_to_have_text("–")
    expect(page.locator('[data-testid="policy-name"]')).to_have_text("scripted_expert")
    assert page.locator('[data-command="pause"]').bounding_box()["height"] >= 48  # touch target


def _settled_joints(page: Page, timeout_s: float = 10.0) -> list[str]:
    """The displayed joints once two readings 300 ms apart agree (the arm has settled)."""
    deadline = time.monotonic() + timeout_s
    previous = _joints(page)
    while time.monotonic() < deadline:
        page.wait_for_timeout(300)
        current = _joints(page)
        if current == previous:
            return current
        previous = current
    raise AssertionError(f"the arm did not settle within {timeout_s} s: {previous}")


def test_pause_freezes_the_joints_and_resume_moves_again(page: Page, console: str) -> None:
    _reset(page, console)
    page.click('[data-command="pause"]')
    expect(page.locator(PHASE)).to_have_text("paused")
    expect(page.locator('[data-command="pause"]')).to_be_disabled()
    held = _settled_joints(page)  # the arm settles on the held goal (first-order dynamics)
    page.wait_for_timeout(800)
    assert _joints(page) == held, "joints changed while paused"
    page.click('[data-command="resume"]')
    expect(page.locator(PHASE)).to_have_text("autonomous")
    deadline = time.monotonic() + 5
    while _joints(page) == held and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert _joints(page) != held, "joints did not move after resume"


def test_keyboard_space_toggles_and_escape_asks_before_stopping(page: Page, console: str) -> None:
    _reset(page, console)
    page.keyboard.press("Space")
    expect(page.locator(PHASE)).to_have_text("paused")
    page.keyboard.press("Space")
    expect(page.locator(PHASE)).to_have_text("autonomous")
    page.keyboard.press("Escape")
    dialog = page.locator('[data-testid="confirm-dialog"]')
    expect(dialog).to_be_visible()
    page.click('[data-testid="confirm-cancel"]')
    expect(dialog).to_be_hidden()
    expect(page.locator(PHASE)).to_have_text("autonomous")


def test_estop_button_and_events_log(page: Page, console: str) -> None:
    _reset(page, console)
    page.click('[data-command="estop"]')
    expect(page.locator(PHASE)).to_have_text("estopped")
    expect(page.locator('[data-testid="events"] li[data-kind="phase_changed"]').first).to_contain_text("estopped")
    page.click('[data-command="resume"]')
    expect(page.locator(PHASE)).to_have_text("autonomous")


def test_page_reconnects_after_a_server_restart(page: Page) -> None:
    port = free_port()
    flags = (*SMALL_CAMERAS, "--server.exit_when_stopped=false", "--return_to_initial_position=false")
    with cli_server(*flags, port=port) as (url, _):
        page.goto(url)
        expect(page.locator('[data-testid="connection"]')).to_have_attribute("data-state", "connected")
        page.wait_for_function('Number(document.querySelector(\'[data-camera="front"]\').dataset.frames) > 2')
    expect(page.locator('[data-testid="connection"]')).to_have_attribute("data-state", "disconnected")
    with cli_server(*flags, port=port):
        expect(page.locator('[data-testid="connection"]')).to_have_attribute("data-state", "connected",
                                                                               timeout=15000)
        frames = _frames(page, "front")
        page.wait_for_function(f'Number(document.querySelector(\'[data-camera="front"]\').dataset.frames) > {frames + 3}',
                               timeout=15000)
        expect(page.locator(PHASE)).to_have_text("autonomous")


def test_stop_from_the_page_after_confirmation(page: Page) -> None:
    with cli_server(*SMALL_CAMERAS, "--return_duration_s=0.3", "--server.exit_when_stopped=false") as (url, _):
        page.goto(url)
        expect(page.locator(PHASE)).to_have_text("autonomous")
        page.keyboard.press("Escape")
        page.keyboard.press("Enter")
        expect(page.locator(PHASE)).to_have_text("stopped", timeout=10000)
