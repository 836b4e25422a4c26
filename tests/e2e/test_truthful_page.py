"""The page tells the truth: when the server is gone, frozen or finished, and why the robot paused itself.

Each test runs its own `rollout-console` process so it can kill, freeze or stop it under a live page.
"""

from __future__ import annotations

import os
import re
import signal

import httpx
import pytest
from helpers import cli_server, dataset_flags, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, WebSocketRoute, expect

pytestmark = pytest.mark.e2e

PHASE = '[data-testid="phase"]'
AGE = '[data-testid="phase-age"]'
BANNER = '[data-testid="banner"]'
CONNECTION = '[data-testid="connection"]'
ERROR_BANNER = '[data-testid="banner"][data-level="error"]'
FLAGS = (*PAGE_FLAGS, "--return_to_initial_position=false")


def _live(page: Page, phase: str = "autonomous") -> None:
    expect(page.locator(PHASE)).to_have_text(phase)
    expect(page.locator(PHASE)).to_have_attribute("data-live", "true")
    expect(page.locator(AGE)).to_be_hidden()


def _commands_disabled_except_estop(page: Page) -> None:
    for button in page.locator("button[data-command]").all():
        if button.get_attribute("data-command") == "estop":
            expect(button).to_be_enabled()
        else:
            expect(button).to_be_disabled()


def _status(url: str) -> dict:
    return httpx.get(url + "/api/v1/status", timeout=10).json()


def test_a_killed_server_leaves_a_stale_page_whose_estop_says_it_was_not_delivered(page: Page) -> None:
    with cli_server(*FLAGS, "--server.exit_when_stopped=false") as (url, proc):
        page.goto(url)
        _live(page)
        expect(page.locator('[data-command="pause"]')).to_be_enabled()
        proc.kill()  # kill -9: no goodbye on the socket
        proc.wait(timeout=30)
        pill = page.locator(PHASE)
        expect(pill).to_have_attribute("data-live", "false")
        expect(pill).to_have_text("autonomous")  # the last phase seen, never a guess
        expect(page.locator("body")).to_have_attribute("data-live", "false")
        expect(page.locator(AGE)).to_have_text(re.compile(r"^last seen \d+ s ago$"))
        expect(page.locator(CONNECTION)).to_have_attribute("data-state", "disconnected")
        expect(page.locator(ERROR_BANNER)).to_have_attribute("data-kind", "disconnected")
        assert pill.evaluate("(el) => getComputedStyle(el).backgroundColor") != "rgb(46, 158, 91)"  # not live green
        _commands_disabled_except_estop(page)
        expect(page.locator(AGE)).not_to_have_text("last seen 0 s ago")  # the age keeps counting

        page.click('[data-command="estop"]')
        banner = page.locator(ERROR_BANNER)
        expect(banner).to_have_attribute("data-kind", "estop")
        expect(banner).to_contain_text("E-STOP")
        expect(banner).to_contain_text("NOT DELIVERED")  # the HTTP retry is refused: nobody listens
        expect(banner).to_contain_text("hardware emergency stop")
        page.keyboard.press("Space")  # hotkeys are commands too: not sent, and the page says why
        expect(pill).to_have_text("autonomous")


def test_a_frozen_server_is_not_live_and_an_estop_reaches_it_over_http_when_it_thaws(page: Page) -> None:
    with cli_server(*FLAGS, "--server.exit_when_stopped=false") as (url, proc):
        page.goto(url)
        _live(page)
        os.kill(proc.pid, signal.SIGSTOP)  # the socket stays open, nothing arrives
        try:
            expect(page.locator(CONNECTION)).to_have_attribute("data-state", "stale")
            expect(page.locator(PHASE)).to_have_attribute("data-live", "false")
            expect(page.locator(AGE)).to_have_text(re.compile(r"^last seen \d+ s ago$"))
            expect(page.locator('[data-camera="front"]')).to_have_attribute("data-stale", "true")  # frozen picture
            _commands_disabled_except_estop(page)
            page.click('[data-command="estop"]')
            banner = page.locator(ERROR_BANNER)
            expect(banner).to_have_attribute("data-kind", "estop")
            expect(banner).to_contain_text("retrying over HTTP")
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        expect(page.locator(PHASE)).to_have_text("estopped")
        expect(page.locator(PHASE)).to_have_attribute("data-live", "true")
        expect(page.locator('[data-camera="front"]')).to_have_attribute("data-stale", "false")
        expect(page.locator(BANNER)).to_contain_text("E-STOP delivered")
        assert _status(url)["phase"] == "estopped"


def test_estop_is_retried_over_rest_when_the_socket_is_gone(page: Page) -> None:
    blocked = {"on": False}
    routes: list[WebSocketRoute] = []

    def control_socket(ws: WebSocketRoute) -> None:
        if blocked["on"]:
            ws.close(code=1011, reason="blocked by the test")  # a proxy that drops WebSockets
            return
        ws.connect_to_server()
        routes.append(ws)

    page.route_web_socket(re.compile(r"/api/v1/ws\?"), control_socket)
    with cli_server(*FLAGS, "--server.exit_when_stopped=false") as (url, _):
        page.goto(url)
        _live(page)
        blocked["on"] = True
        for route in routes:
            route.close(code=1006, reason="lost")
        expect(page.locator(CONNECTION)).to_have_attribute("data-state", "disconnected")
        _commands_disabled_except_estop(page)
        assert _status(url)["phase"] == "autonomous"
        page.click('[data-command="estop"]')
        banner = page.locator(ERROR_BANNER)
        expect(banner).to_have_attribute("data-kind", "estop")
        expect(banner).to_contain_text("E-STOP delivered over HTTP")
        assert _status(url)["phase"] == "estopped"
        events = httpx.get(url + "/api/v1/events?since=0", timeout=10).json()["data"]
        estops = [e["data"] for e in events if e["kind"] == "command" and e["data"]["name"] == "estop"]
        assert estops and estops[-1]["source"].startswith("rest:tab-"), estops  # the page's REST fallback
        expect(page.locator(PHASE)).to_have_text("estopped")  # the HTTP answer is the server's word
        expect(page.locator(PHASE)).to_have_attribute("data-live", "false")  # but the page is still not live


def test_after_stop_the_page_says_the_session_ended_not_reconnecting(page: Page) -> None:
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url) if "/api/v1/ws?" in ws.url else None)
    with cli_server(*FLAGS, "--server.exit_when_stopped=true") as (url, proc):  # the server exits with the session
        page.goto(url)
        _live(page)
        page.click('[data-command="stop"]')
        page.click('[data-testid="confirm-ok"]')
        proc.wait(timeout=60)
        attempts = len(sockets)
        expect(page.locator(CONNECTION)).to_have_attribute("data-state", "ended")
        expect(page.locator(CONNECTION)).to_have_text("session ended")
        expect(page.locator(PHASE)).to_have_text("stopped")
        expect(page.locator(PHASE)).to_have_attribute("data-live", "false")
        banner = page.locator(BANNER)
        expect(banner).to_have_attribute("data-kind", "ended")
        expect(banner).to_have_attribute("data-level", "info")
        expect(banner).to_contain_text("The session ended")
        # the page keeps looking for a new server in the background, and keeps saying "ended" meanwhile
        wait_until(lambda: page.evaluate("1") and len(sockets) >= attempts + 2, timeout=60, interval=0.2,
                   message="two reconnect attempts")
        expect(page.locator(CONNECTION)).to_have_text("session ended")
        expect(banner).to_have_attribute("data-kind", "ended")


def test_a_later_visitor_sees_why_the_robot_paused_itself(browser: Browser, tmp_path) -> None:
    flags = dataset_flags(tmp_path / "ds", "dagger", *FLAGS, "--server.exit_when_stopped=false")
    with cli_server(*flags) as (url, _):
        first = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        first.goto(url)
        _live(first)
        first.click('[data-testid="lease-take"]')
        expect(first.locator('[data-testid="lease-holder"]')).to_have_text("this tab")
        first.context.close()  # the controlling tab goes away while the robot moves: it pauses
        wait_until(lambda: _status(url)["phase"] == "paused", timeout=30, message="the lease pause")
        notice = _status(url)["notice"]
        assert notice and "paused" in notice and "released control" in notice

        later = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        try:
            later.goto(url)
            _live(later, "paused")
            banner = later.locator(BANNER)
            expect(banner).to_be_visible()
            expect(banner).to_have_attribute("data-kind", "notice")
            expect(banner).to_have_text(notice)
            later.click('[data-command="resume"]')
            expect(later.locator(PHASE)).to_have_text("autonomous")
            expect(banner).to_be_hidden()
            assert _status(url)["notice"] is None
        finally:
            later.context.close()
