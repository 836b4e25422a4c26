"""Clearing an E-STOP is its own deliberate step on the page (issue 15): E-STOP -> Clear E-STOP (paused,
holding) -> Resume (autonomous), on the desktop page with the mouse and the Space key, and on the tablet by
touch; Resume is disabled while estopped and the page says why; a script's resume is refused, visibly."""

from __future__ import annotations

import httpx
import pytest
from helpers import cli_server, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e
PHASE = '[data-testid="phase"]'
BANNER = '[data-testid="banner"]'


@pytest.fixture(scope="module")
def console():
    with cli_server(*PAGE_FLAGS, "--return_to_initial_position=false", "--server.exit_when_stopped=false",
                    "--lease.timeout_s=1.5") as (url, _):
        yield url


def _autonomous(url: str) -> None:
    """Start each test on a moving robot, once the last test's page has given control up."""
    wait_until(lambda: httpx.get(url + "/api/v1/lease", timeout=10).json()["holder"] is None, timeout=60,
               message="the previous page to give control up")
    phase = httpx.get(url + "/api/v1/status", timeout=10).json()["phase"]
    if phase == "estopped":
        assert httpx.post(url + "/api/v1/commands/reset", timeout=30).status_code == 200
    assert httpx.post(url + "/api/v1/commands/resume", timeout=30).status_code == 200


def _estopped_page_says_clear_first(page: Page) -> None:
    expect(page.locator(PHASE)).to_have_text("estopped")
    expect(page.locator('[data-command="resume"]')).to_be_disabled()
    expect(page.locator('[data-command="reset"]')).to_be_enabled()
    expect(page.locator(BANNER)).to_be_visible()
    expect(page.locator(BANNER)).to_contain_text("Clear the E-STOP")


def test_desktop_estop_clear_then_resume_by_mouse_and_by_space(page: Page, console: str) -> None:
    _autonomous(console)
    page.goto(console)
    expect(page.locator(PHASE)).to_have_text("autonomous")
    page.click('[data-command="estop"]')
    _estopped_page_says_clear_first(page)
    page.click('[data-command="reset"]')
    expect(page.locator(PHASE)).to_have_text("paused")
    expect(page.locator(BANNER)).to_contain_text("E-STOP cleared")
    expect(page.locator('[data-command="reset"]')).to_be_disabled()
    page.click('[data-command="resume"]')
    expect(page.locator(PHASE)).to_have_text("autonomous")
    expect(page.locator(BANNER)).to_be_hidden()

    # the pause/resume key: one press clears (the arm holds), only the next one resumes
    page.click('[data-command="estop"]')
    _estopped_page_says_clear_first(page)
    page.keyboard.press("Space")
    expect(page.locator(PHASE)).to_have_text("paused")
    page.wait_for_timeout(1000)  # one press: nothing else happens, however long the operator waits
    expect(page.locator(PHASE)).to_have_text("paused")
    page.keyboard.press("Space")
    expect(page.locator(PHASE)).to_have_text("autonomous")


def test_a_scripts_resume_while_estopped_is_refused_and_the_page_shows_why(page: Page, console: str) -> None:
    _autonomous(console)
    page.goto(console)
    expect(page.locator(PHASE)).to_have_text("autonomous")
    assert httpx.post(console + "/api/v1/commands/estop", timeout=30).status_code == 200
    _estopped_page_says_clear_first(page)
    refused = httpx.post(console + "/api/v1/commands/resume", timeout=30)
    assert refused.status_code == 409 and refused.json()["detail"] == "clear the E-STOP first (reset)"
    expect(page.locator('[data-testid="events"] li[data-kind="command"]').first).to_contain_text(
        "clear the E-STOP first")
    expect(page.locator(PHASE)).to_have_text("estopped")  # the refusal changed nothing
    assert httpx.post(console + "/api/v1/commands/reset", timeout=30).json()["phase"] == "paused"
    expect(page.locator(PHASE)).to_have_text("paused")


@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 768}, {"width": 768, "height": 1024}])
def test_tablet_estop_clear_then_resume_by_touch(browser: Browser, console: str, viewport: dict) -> None:
    _autonomous(console)
    context = browser.new_context(viewport=viewport, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(console + "/tablet")
        expect(page.locator(PHASE)).to_have_text("autonomous")
        page.locator('[data-command="estop"]').tap()
        _estopped_page_says_clear_first(page)
        clear = page.locator('[data-command="reset"]')
        expect(clear).to_have_text("Clear E-STOP")
        box = clear.bounding_box()
        assert box is not None and box["height"] >= 48 and box["width"] >= 48
        assert box["y"] + box["height"] <= viewport["height"] and box["x"] + box["width"] <= viewport["width"]
        clear.tap()
        expect(page.locator(PHASE)).to_have_text("paused")
        page.locator('[data-command="resume"]').tap()
        expect(page.locator(PHASE)).to_have_text("autonomous")
    finally:
        context.close()
