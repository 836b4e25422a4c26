"""DAgger from the browser: buttons, hotkeys, a tablet with taps, and two tabs (controller and viewer)."""

from __future__ import annotations

import httpx
import pyarrow.parquet as pq
import pytest
from helpers import cli_server, dataset_flags, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e
PHASE = '[data-testid="phase"]'


@pytest.fixture
def dagger(tmp_path):
    root = tmp_path / "dagger"
    flags = dataset_flags(root, "dagger", "--return_to_initial_position=false", "--server.exit_when_stopped=false",
                          "--lease.timeout_s=1.5")
    with cli_server(*PAGE_FLAGS, *flags) as (url, _):
        yield url, root


def _episodes(url: str) -> list[dict]:
    return httpx.get(url + "/api/v1/episodes").json()["data"]


def _wait_recorded_frames(page: Page, more_than: int = 5) -> None:
    """Until the correction in progress has recorded frames (the page's latest state says so)."""
    page.wait_for_function(f"(window.rolloutConsole.state?.recording?.frames ?? 0) > {more_than}")


def _interventions(root) -> list[bool]:
    values: list[bool] = []
    for path in sorted((root / "data").rglob("*.parquet")):
        values += pq.read_table(path).column("intervention").to_pylist()
    return values


def test_dagger_session_by_buttons_with_a_drag_on_the_camera(page: Page, dagger) -> None:
    url, root = dagger
    page.goto(url)
    expect(page.locator(PHASE)).to_have_text("autonomous")
    page.click('[data-command="pause"]')
    expect(page.locator(PHASE)).to_have_text("paused")
    page.click('[data-command="takeover"]')
    expect(page.locator(PHASE)).to_have_text("correcting")
    expect(page.locator('[data-testid="teleop"]')).to_be_visible()
    before = httpx.get(url + "/api/v1/teleop").json()["targets"]
    box = page.locator('[data-camera="top"] canvas').bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.45)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    wait_until(lambda: httpx.get(url + "/api/v1/teleop").json()["targets"] != before, timeout=30,
               message="leader moved by drag")
    assert httpx.get(url + "/api/v1/teleop").json()["moved_by"].startswith("ws:")
    _wait_recorded_frames(page)
    page.click('[data-command="handback"]')
    expect(page.locator(PHASE)).to_have_text("paused")
    expect(page.locator('[data-testid="episodes"] li')).to_have_count(1, timeout=90_000)  # listed once durable
    page.click('[data-command="resume"]')
    expect(page.locator(PHASE)).to_have_text("autonomous")
    assert _interventions(root) and set(_interventions(root)) == {True}


def test_dagger_by_hotkeys_and_a_remapped_key(page: Page, dagger) -> None:
    url, _ = dagger
    page.goto(url)
    expect(page.locator(PHASE)).to_have_text("autonomous")
    page.keyboard.press("Space")
    expect(page.locator(PHASE)).to_have_text("paused")
    page.keyboard.press("KeyT")
    expect(page.locator(PHASE)).to_have_text("correcting")
    _wait_recorded_frames(page)
    page.keyboard.press("KeyT")
    expect(page.locator(PHASE)).to_have_text("paused")
    page.keyboard.press("KeyU")  # upload: refused (push_to_hub=false) and said so
    expect(page.locator('[data-testid="banner"]')).to_contain_text("upload")
    page.click('[data-testid="keymap-open"]')
    page.click('[data-key-action="pause_resume"]')
    page.keyboard.press("KeyP")
    page.click('[data-testid="keymap-close"]')
    expect(page.locator('[data-testid="shortcuts"]')).to_contain_text("P pause / resume")
    page.keyboard.press("KeyP")
    expect(page.locator(PHASE)).to_have_text("autonomous")
    wait_until(lambda: len(_episodes(url)) == 1, timeout=30, message="the correction saved")


def _page_commands(url: str) -> list[str]:
    """The commands the page sent so far (WebSocket or its REST fallback), in the order the loop applied them."""
    events = httpx.get(url + "/api/v1/events?since=0").json()["data"]
    return [e["data"]["name"] for e in events
            if e["kind"] == "command" and e["data"]["source"].split(":")[0] in ("ws", "rest")]


def test_tab_enter_space_and_arrows_on_focused_controls_are_never_hotkeys(page: Page, dagger) -> None:
    url, _ = dagger
    page.goto(url)
    expect(page.locator(PHASE)).to_have_text("autonomous")
    page.keyboard.press("Space")  # nothing focused: Space is pause/resume
    expect(page.locator(PHASE)).to_have_text("paused")
    for _ in range(4):  # Tab walks the focus through the controls (it used to start a takeover)
        page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_count(1)
    page.focus('[data-testid="tablet-link"]')
    page.keyboard.press("Space")  # a focused link owns Space (it scrolls): no resume
    page.keyboard.press("ArrowDown")
    page.focus('[data-testid="keymap-open"]')
    page.keyboard.press("Enter")  # a focused button owns Enter: it opens the key map, nothing is uploaded
    expect(page.locator('[data-testid="keymap-dialog"]')).to_be_visible()
    page.keyboard.press("KeyT")  # hotkeys are off while a dialog is open
    page.keyboard.press("Escape")  # closes the dialog (natively), does not ask to stop
    expect(page.locator('[data-testid="keymap-dialog"]')).to_be_hidden()
    expect(page.locator('[data-testid="confirm-dialog"]')).to_be_hidden()
    page.keyboard.press("KeyT")  # a letter is a hotkey even with a button focused: take over
    expect(page.locator(PHASE)).to_have_text("correcting")
    # commands over one socket apply in order: anything the keys above had sent would be listed first
    assert _page_commands(url) == ["pause", "takeover"]
    page.keyboard.press("Tab")
    page.focus('[data-testid="tablet-link"]')
    page.keyboard.press("Enter")  # a focused link follows itself: to the tablet view, no upload
    expect(page).to_have_url(url + "/tablet")
    # leaving the page gave control up mid-correction: the session paused itself and says why
    expect(page.locator(PHASE)).to_have_text("paused")
    expect(page.locator('[data-testid="banner"]')).to_contain_text("released control")
    assert _page_commands(url) == ["pause", "takeover"]


def test_tablet_viewport_with_taps(browser: Browser, dagger) -> None:
    url, _ = dagger
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(url + "/tablet")
        expect(page.locator(PHASE)).to_have_text("autonomous")
        pause = page.locator('[data-command="pause"]')
        assert pause.bounding_box()["height"] >= 48 and pause.bounding_box()["width"] >= 48
        pause.tap()
        expect(page.locator(PHASE)).to_have_text("paused")
        page.locator('[data-command="takeover"]').tap()
        expect(page.locator(PHASE)).to_have_text("correcting")
        expect(page.locator("body")).to_have_attribute("data-phase", "correcting")
        expect(page.locator('[data-testid="correction-timer"]')).not_to_have_text("–")
        _wait_recorded_frames(page)
        page.locator('[data-save-outcome="success"]').tap()
        expect(page.locator(PHASE)).to_have_text("paused")
        expect(page.locator('[data-testid="episode-count"]')).to_have_text("1")  # submitted
        episodes = wait_until(lambda: _episodes(url), timeout=30, message="the episode durable and listed")
        assert len(episodes) == 1 and episodes[0]["extra"]["outcome"] == "success"
        page.locator('[data-command="resume"]').tap()
        expect(page.locator(PHASE)).to_have_text("autonomous")
    finally:
        context.close()


def test_one_controller_many_viewers(browser: Browser, dagger) -> None:
    url, _ = dagger
    tablet = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        tablet.goto(url)
        other.goto(url)
        expect(tablet.locator(PHASE)).to_have_text("autonomous")
        tablet.click('[data-command="pause"]')  # the first command takes control (nobody held it)
        expect(tablet.locator('[data-testid="lease-holder"]')).to_have_text("this tab")
        expect(other.locator('[data-testid="lease-holder"]')).not_to_have_text("this tab")
        expect(other.locator('[data-testid="lease-holder"]')).not_to_have_text("nobody (any operator may command)")
        other.click('[data-command="resume"]')
        expect(other.locator('[data-testid="banner"]')).to_contain_text("holds control")
        expect(other.locator(PHASE)).to_have_text("paused")
        other.click('[data-command="estop"]')  # any client may estop
        expect(tablet.locator(PHASE)).to_have_text("estopped")
        expect(tablet.locator('[data-command="resume"]')).to_be_disabled()  # clearing the E-STOP comes first
        tablet.click('[data-command="reset"]')
        expect(other.locator(PHASE)).to_have_text("paused")
        tablet.click('[data-command="resume"]')
        expect(other.locator(PHASE)).to_have_text("autonomous")
        tablet.context.close()  # the controller's tab goes away while the robot moves: it pauses
        expect(other.locator(PHASE)).to_have_text("paused")
        expect(other.locator('[data-testid="lease-holder"]')).to_contain_text("nobody")
    finally:
        for page in (tablet, other):
            try:
                page.context.close()
            except Exception:
                pass
