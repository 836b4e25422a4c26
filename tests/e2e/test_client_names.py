"""Client names with two browser contexts: defaults from the device, numbered on collision, renamed in the
Control panel; hand-over messages computed from the current lease (none left over once the holder's tab closes)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from helpers import cli_server, dataset_flags, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

PHASE = '[data-testid="phase"]'
HOLDER = '[data-testid="lease-holder"]'
NOTICE = '[data-testid="lease-notice"]'
NAME = '[data-testid="client-name"]'
# Chromium on Linux; the headless build says HeadlessChrome, which is Chrome to a person
DEFAULT = "Linux · Chrome"


@pytest.fixture(scope="module")
def dagger(tmp_path_factory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("names") / "ds"
    flags = dataset_flags(root, "dagger", "--task=Stack the blocks", "--strategy.num_episodes=7",
                          "--server.exit_when_stopped=false")
    with cli_server(*PAGE_FLAGS, *flags) as (url, _):
        yield url


def _open(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url)
    expect(page.locator(PHASE)).to_have_attribute("data-live", "true")
    return page


def _status(url: str) -> dict:
    return httpx.get(url + "/api/v1/status", timeout=10).json()


def test_names_collisions_and_hand_over_messages(browser: Browser, dagger: str) -> None:
    desk = _open(browser, dagger)
    expect(desk.locator(NAME)).to_have_text(DEFAULT)
    tablet = _open(browser, dagger)
    pages = [desk, tablet]
    try:
        expect(tablet.locator(NAME)).to_have_text(f"{DEFAULT} (2)")  # the same device and browser: numbered
        expect(desk.locator(NAME)).to_have_text(DEFAULT)

        desk.click('[data-testid="lease-take"]')
        expect(desk.locator(HOLDER)).to_have_text("this tab")
        expect(desk.locator(NOTICE)).to_contain_text("You hold control")
        expect(tablet.locator(HOLDER)).to_have_text(DEFAULT)
        expect(tablet.locator(NOTICE)).to_have_text(f"{DEFAULT} holds control: ask for it, or take it "
                                                    "(their robot motion pauses).")

        # a request names the asker with its numbered name; refused, the asker is told who kept control
        tablet.click('[data-testid="lease-request"]')
        expect(tablet.locator(NOTICE)).to_contain_text(f"Waiting for {DEFAULT} to answer")
        expect(desk.locator('[data-testid="lease-incoming-text"]')).to_have_text(f"{DEFAULT} (2) asks for control")
        desk.click('[data-testid="lease-refuse"]')
        expect(tablet.locator(NOTICE)).to_have_text(f"{DEFAULT} kept control. {DEFAULT} holds control: ask for it, "
                                                    "or take it (their robot motion pauses).")

        # the tablet picks a name (remembered by this browser) ...
        tablet.click('[data-testid="client-name-edit"]')
        tablet.fill('[data-testid="client-name-input"]', "Tablet by the arm")
        tablet.click('[data-testid="client-name-save"]')
        expect(tablet.locator(NAME)).to_have_text("Tablet by the arm")
        assert tablet.evaluate("localStorage.getItem('rcLabel')") == "Tablet by the arm"

        # ... and takes control: it says it holds control, not that the desk "kept control"
        tablet.once("dialog", lambda dialog: dialog.accept())
        tablet.click('[data-testid="lease-take"]')
        expect(tablet.locator(HOLDER)).to_have_text("this tab")
        expect(tablet.locator(NOTICE)).to_have_text("You hold control: other tabs must ask you for it. "
                                                    "Release it before you walk away.")
        expect(desk.locator(HOLDER)).to_have_text("Tablet by the arm")
        expect(desk.locator(NOTICE)).to_have_text("Tablet by the arm took control from you. Tablet by the arm holds "
                                                  "control: ask for it, or take it (their robot motion pauses).")
        forced = desk.locator('[data-testid="events"] > li[data-kind="lease"]').first
        expect(forced.locator('[data-testid="event-text"]')).to_have_text(
            f"Tablet by the arm took control from {DEFAULT} (forced)")
        expect(forced).to_have_attribute("data-level", "warning")
        assert _status(dagger)["lease"]["holder"]["label"] == "Tablet by the arm"

        # the desk asks, the tablet hands over
        desk.click('[data-testid="lease-request"]')
        expect(tablet.locator('[data-testid="lease-incoming-text"]')).to_have_text(f"{DEFAULT} asks for control")
        tablet.click('[data-testid="lease-accept"]')
        expect(desk.locator(HOLDER)).to_have_text("this tab")
        expect(desk.locator(NOTICE)).to_contain_text("You hold control")
        expect(tablet.locator(HOLDER)).to_have_text(DEFAULT)
        expect(tablet.locator(NOTICE)).to_have_text(f"You handed control to {DEFAULT}. {DEFAULT} holds control: ask "
                                                    "for it, or take it (their robot motion pauses).")

        # the holder's tab closes: the other tab says nobody holds control, with nothing left over
        desk.context.close()
        pages.remove(desk)
        expect(tablet.locator(HOLDER)).to_have_text("nobody (any operator may command)")
        expect(tablet.locator(NOTICE)).to_have_text("Nobody holds control: any operator may command. Take control so "
                                                    "the robot pauses if this tab goes away.")
        released = tablet.locator('[data-testid="events"] > li[data-kind="lease"]').first
        expect(released.locator('[data-testid="event-text"]')).to_have_text(f"{DEFAULT} released control")

        # the desk's name is free again: a new tab of the same kind gets it without a number
        later = _open(browser, dagger)
        pages.append(later)
        expect(later.locator(NAME)).to_have_text(DEFAULT)
    finally:
        for page in pages:
            page.context.close()


def test_mission_strip_in_a_dagger_session(browser: Browser, dagger: str) -> None:
    page = _open(browser, dagger)
    try:
        expect(page.locator('[data-testid="mission-task"]')).to_have_text("Stack the blocks")
        expect(page.locator('[data-testid="mission-episode-label"]')).to_have_text("episodes")
        rec = _status(dagger)["recording"]
        assert rec["num_episodes"] == 7
        expect(page.locator('[data-testid="mission-episode"]')).to_have_text(f"{rec['episodes_recorded']} of 7")

        def attempts_agree() -> bool:
            shown = page.locator('[data-testid="mission-attempts"]').text_content()
            return shown == str(_status(dagger)["task"]["attempts"])

        wait_until(attempts_agree, timeout=30, interval=0.3, message="attempts on the strip and in the status")
        expect(page.locator('[data-testid="mission-dataset"]')).to_have_text(rec["repo_id"])
    finally:
        page.context.close()
