"""The preview size in the page (real Chromium, the real console): Full by default; choosing Half or Quarter
reconnects the camera sockets alone, at that size (the control socket stays up); the choice is kept by this
browser (a reload and the tablet view keep it, another browser profile starts at Full); the server sees
viewers at the new size that acknowledge their frames, and each tile shows the bytes per second it gets."""

from __future__ import annotations

import re

import httpx
import pytest
from helpers import cli_server, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, WebSocket, expect

pytestmark = pytest.mark.e2e

CAMERAS = ["front", "top"]
SIZE = '[data-testid="preview-size"]'


@pytest.fixture(scope="module")
def console_url():
    with cli_server(*PAGE_FLAGS, "--server.exit_when_stopped=false") as (url, _):  # cameras 160x120
        yield url


def _expect_tiles(page: Page, width: int, height: int, scale: str) -> None:
    for camera in CAMERAS:
        tile = page.locator(f'[data-camera="{camera}"]')
        expect(tile).to_have_attribute("data-scale", scale)
        expect(tile).to_have_attribute("data-width", str(width))
        expect(tile).to_have_attribute("data-height", str(height))
        expect(tile).to_have_attribute("data-connected", "true")


def _server_viewers(url: str) -> dict[str, list[tuple[float, bool]]]:
    previews = httpx.get(url + "/api/v1/status", timeout=30).json()["previews"]
    return {camera: sorted((c["scale"], c["acknowledged"] and c["acks"] > 0) for c in previews[camera]["clients"])
            for camera in CAMERAS}


def test_the_operator_chooses_the_preview_size_and_the_browser_keeps_it(browser: Browser, page: Page,
                                                                         console_url: str) -> None:
    sockets: list[WebSocket] = []
    closed: list[str] = []
    page.on("websocket", lambda ws: (sockets.append(ws), ws.on("close", lambda w: closed.append(w.url))))
    page.goto(console_url + "/")
    expect(page.locator(SIZE)).to_have_value("1")
    expect(page.locator(SIZE).locator("option")).to_have_text(["Full", "Half", "Quarter"])
    _expect_tiles(page, 160, 120, "1")
    expect(page.locator('[data-testid="phase"]')).to_have_attribute("data-live", "true")
    for camera in CAMERAS:  # the tile says what its link carries
        expect(page.locator(f'[data-testid="camera-stats-{camera}"]')).to_have_text(re.compile(r"([1-9]\d* kB|\d+\.\d MB)/s$"))
    wait_until(lambda: _server_viewers(console_url) == {c: [(1.0, True)] for c in CAMERAS}, timeout=30,
               message="one full-size viewer per camera, acknowledging")
    control = [ws.url for ws in sockets if "/api/v1/ws" in ws.url]
    assert len(control) == 1 and all("ack=1" in ws.url for ws in sockets if "/cameras/" in ws.url)
    opened_before = len(sockets)

    page.locator(SIZE).focus()  # as an operator on the keyboard: the next size down is Half
    page.keyboard.press("ArrowDown")
    _expect_tiles(page, 80, 60, "0.5")
    expect(page.locator(SIZE)).not_to_be_focused()  # the operator's hotkeys work again at once
    # only the camera sockets were replaced: two new ones at the new size, the control socket untouched
    new = [ws.url for ws in sockets[opened_before:]]
    assert sorted(re.sub(r"^.*/cameras/([^/]+)/ws.*$", r"\1", u) for u in new) == CAMERAS, new
    assert all("scale=0.5" in u for u in new), new
    assert not any("/api/v1/ws" in u for u in closed), closed
    wait_until(lambda: _server_viewers(console_url) == {c: [(0.5, True)] for c in CAMERAS}, timeout=30,
               message="the server sees one half-size viewer per camera, and no full-size one")

    page.locator(SIZE).select_option(label="Quarter")
    _expect_tiles(page, 40, 30, "0.25")

    # kept by this browser: a reload and the tablet view open at Quarter
    page.reload()
    expect(page.locator(SIZE)).to_have_value("0.25")
    _expect_tiles(page, 40, 30, "0.25")
    page.goto(console_url + "/tablet")
    expect(page.locator(SIZE)).to_have_value("0.25")
    _expect_tiles(page, 40, 30, "0.25")

    # another browser profile has its own choice: Full, the default
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        fresh = other.new_page()
        fresh.goto(console_url + "/")
        expect(fresh.locator(SIZE)).to_have_value("1")
        _expect_tiles(fresh, 160, 120, "1")
    finally:
        other.close()

    # back to Full in the first profile: full resolution again
    page.locator(SIZE).select_option(label="Full")
    _expect_tiles(page, 160, 120, "1")
