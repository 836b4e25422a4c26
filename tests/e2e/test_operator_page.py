"""The operator page in Chromium against the real `rollout-console` command on the sim robot."""

from __future__ import annotations

import re

import httpx
import pytest
from helpers import cli_server, free_port, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PHASE = '[data-testid="phase"]'


@pytest.fixture(scope="module")
def console():
    with cli_server(*PAGE_FLAGS, "--return_duration_s=0.5", "--server.exit_when_stopped=false") as (url, proc):
        yield url


def _frames(page: Page, camera: str) -> int:
    return int(page.get_attribute(f'[data-camera="{camera}"]', "data-frames") or 0)


def _joints(page: Page) -> list[str]:
    return page.locator("[data-joint]").all_text_contents()


def _reset(page: Page, url: str) -> None:
    """Start a test on a moving robot whatever the last test left behind.

    The last test's page may still hold control; when the server processes its goodbye, the release pauses
    the robot, possibly after this page loaded. So wait until control is free, then resume over REST: that
    resume is queued after any such pause, and "already running" otherwise.
    """
    wait_until(lambda: httpx.get(url + "/api/v1/lease", timeout=10).json()["holder"] is None, timeout=60,
               message="the previous page to give control up")
    if httpx.get(url + "/api/v1/status", timeout=10).json()["phase"] == "estopped":
        assert httpx.post(url + "/api/v1/commands/reset", timeout=30).status_code == 200  # clear it first
    assert httpx.post(url + "/api/v1/commands/resume", timeout=30).status_code == 200
    page.goto(url)
    expect(page.locator('[data-testid="connection"]')).to_have_attribute("data-state", "connected")
    expect(page.locator(PHASE)).to_have_text("autonomous")


def test_page_shows_live_cameras_phase_and_loop_health(page: Page, console: str) -> None:
    _reset(page, console)
    for camera in ("front", "top"):
        page.wait_for_function(f'Number(document.querySelector(\'[data-camera="{camera}"]\').dataset.frames) > 5')
        assert page.get_attribute(f'[data-camera="{camera}"]', "data-width") == "160"
    before = _frames(page, "front")
    page.wait_for_function(f'Number(document.querySelector(\'[data-camera="front"]\').dataset.frames) > {before + 3}')
    expect(page.locator('[data-testid="loop-hz"]')).not_to_have_text("–")
    expect(page.locator('[data-testid="policy-name"]')).to_have_text("scripted_expert")
    assert page.locator('[data-command="pause"]').bounding_box()["height"] >= 48  # touch target


_JOINTS_TEXT = "() => [...document.querySelectorAll('[data-joint]')].map((e) => e.textContent).join('|')"


def _settled_joints(page: Page, ticks: int = 15) -> list[str]:
    """The displayed joints once they stayed the same over ``ticks`` control-loop ticks (the arm settled).

    Counted in the server's loop ticks (from the state the page received), not in wall time, so a
    loaded machine cannot fake a settle.
    """
    page.wait_for_function(f"""() => {{
        const state = window.rolloutConsole.state;
        if (!state) return false;
        const text = ({_JOINTS_TEXT})();
        const settle = window.__settle;
        if (!settle || settle.text !== text) {{ window.__settle = {{ text, since: state.loop.ticks }}; return false; }}
        return state.loop.ticks - settle.since >= {ticks};
    }}""", timeout=30_000)
    return _joints(page)


def _after_ticks(page: Page, ticks: int) -> None:
    """Until the page has received a state at least ``ticks`` loop ticks newer than its current one."""
    start = page.evaluate("() => window.rolloutConsole.state.loop.ticks")
    page.wait_for_function(f"() => window.rolloutConsole.state.loop.ticks >= {start + ticks}")


def test_pause_freezes_the_joints_and_resume_moves_again(page: Page, console: str) -> None:
    _reset(page, console)
    page.click('[data-command="pause"]')
    expect(page.locator(PHASE)).to_have_text("paused")
    expect(page.locator('[data-command="pause"]')).to_be_disabled()
    held = _settled_joints(page)  # the arm settles on the held goal (first-order dynamics)
    _after_ticks(page, 24)
    assert _joints(page) == held, "joints changed while paused"
    page.click('[data-command="resume"]')
    expect(page.locator(PHASE)).to_have_text("autonomous")
    page.wait_for_function(f"(held) => ({_JOINTS_TEXT})() !== held", arg="|".join(held))


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
    expect(page.locator('[data-command="resume"]')).to_be_disabled()  # clearing the E-STOP comes first
    page.click('[data-command="reset"]')
    expect(page.locator(PHASE)).to_have_text("paused")
    page.click('[data-command="resume"]')
    expect(page.locator(PHASE)).to_have_text("autonomous")


def test_page_reconnects_after_a_server_restart(page: Page) -> None:
    port = free_port()
    flags = (*PAGE_FLAGS, "--server.exit_when_stopped=false", "--return_to_initial_position=false")
    with cli_server(*flags, port=port) as (url, _):
        page.goto(url)
        expect(page.locator('[data-testid="connection"]')).to_have_attribute("data-state", "connected")
        page.wait_for_function('Number(document.querySelector(\'[data-camera="front"]\').dataset.frames) > 2')
    # the server's SIGTERM stops the session gracefully first, so the page may say "ended" rather than "lost"
    expect(page.locator('[data-testid="connection"]')).to_have_attribute("data-state", re.compile("ended|disconnected"))
    with cli_server(*flags, port=port):
        expect(page.locator('[data-testid="connection"]')).to_have_attribute("data-state", "connected",
                                                                               timeout=30_000)
        frames = _frames(page, "front")
        page.wait_for_function(f'Number(document.querySelector(\'[data-camera="front"]\').dataset.frames) > {frames + 3}',
                               timeout=30_000)
        expect(page.locator(PHASE)).to_have_text("autonomous")


def test_stop_from_the_page_after_confirmation(page: Page) -> None:
    with cli_server(*PAGE_FLAGS, "--return_duration_s=0.3", "--server.exit_when_stopped=false") as (url, _):
        page.goto(url)
        expect(page.locator(PHASE)).to_have_text("autonomous")
        page.keyboard.press("Escape")
        expect(page.locator('[data-testid="confirm-ok"]')).to_be_focused()  # Enter presses Stop, Tab moves to Cancel
        page.keyboard.press("Enter")
        # the server stays up: the page says the session ended and offers the New session form
        expect(page.locator(PHASE)).to_have_text("idle")
        expect(page.locator('[data-testid="banner"]')).to_have_attribute("data-kind", "idle")
        expect(page.locator('[data-testid="banner"]')).to_contain_text("ended (stopped)")
        expect(page.locator('[data-testid="new-session"]')).to_be_visible()
