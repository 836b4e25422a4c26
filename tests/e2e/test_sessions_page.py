"""Two sessions and more from the page, without restarting the server: base, stop, dagger with another
policy and a dataset, stop, start again; on the desktop page and on the tablet."""

from __future__ import annotations

import httpx
import pytest
from helpers import cli_server, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, expect
from rollout_console.recording.verify import verify_dataset

pytestmark = pytest.mark.e2e
PHASE = '[data-testid="phase"]'
FORM = '[data-testid="new-session"]'


def _flags(tmp_path) -> list[str]:
    (tmp_path / "policies").mkdir(exist_ok=True)
    return [*PAGE_FLAGS, "--return_duration_s=0.3", f"--server.data_dir={tmp_path / 'data'}",
            f"--server.policies_dir={tmp_path / 'policies'}"]


def _stop_from_the_page(page: Page) -> None:
    page.click('[data-command="stop"]')
    page.click('[data-testid="confirm-ok"]')
    expect(page.locator(PHASE)).to_have_text("idle")  # the page reloaded: no session runs now
    expect(page.locator(FORM)).to_be_visible()
    expect(page.locator(FORM)).to_have_attribute("data-ready", "true")


def test_two_sessions_from_the_desktop_page(page: Page, tmp_path) -> None:
    with cli_server(*_flags(tmp_path)) as (url, proc):
        page.goto(url)
        expect(page.locator(PHASE)).to_have_text("autonomous")
        expect(page.locator('[data-testid="strategy"]')).to_have_text("base")
        _stop_from_the_page(page)
        expect(page.locator('[data-testid="banner"]')).to_have_attribute("data-kind", "idle")
        expect(page.locator('[data-testid="sessions"] > li')).to_have_count(1)
        expect(page.locator('[data-testid="sessions"] > li').first).to_have_attribute("data-end-cause", "stopped")
        expect(page.locator('[data-testid="session-strategy"]')).to_have_value("base")  # prefilled
        page.wait_for_function("Number(document.querySelector('[data-camera=\"front\"]').dataset.frames) > 3")

        # a dagger session with the built-in flow policy, the rtc engine and a dataset
        page.select_option('[data-testid="session-strategy"]', "dagger")
        expect(page.locator('[data-testid="session-record"]')).to_be_visible()
        page.select_option('[data-testid="session-record"]', "corrections")
        page.check('input[name="policy_source"][value="builtin"]')
        page.select_option('[data-testid="session-builtin"]', "builtin:sim_flow")
        page.select_option('[data-testid="session-engine"]', "rtc")
        page.fill('[data-testid="session-task"]', "put the cube on the target")
        page.fill('[data-testid="session-repo-id"]', "tester/page_dagger")
        page.fill('[data-testid="session-root"]', "/etc/not-under-the-data-folder")
        page.click('[data-testid="start-session"]')
        error = page.locator('[data-error-for="dataset.root"]')
        expect(error).to_be_visible()
        expect(error).to_contain_text("data_dir")
        expect(page.locator(PHASE)).to_have_text("idle")  # refused: nothing started
        page.fill('[data-testid="session-root"]', "")
        page.click('[data-testid="start-session"]')
        expect(page.locator('[data-testid="strategy"]')).to_have_text("dagger")
        expect(page.locator(PHASE)).to_have_text("autonomous")
        expect(page.locator('[data-testid="policy-name"]')).to_have_text("flow:sim_flow")
        expect(page.locator('[data-testid="inference-engine"]')).to_contain_text("rtc")

        page.click('[data-command="pause"]')
        expect(page.locator(PHASE)).to_have_text("paused")
        page.click('[data-command="takeover"]')
        expect(page.locator(PHASE)).to_have_text("correcting")
        page.wait_for_function("(window.rolloutConsole.state?.recording?.frames ?? 0) > 5")
        page.click('[data-save-outcome="success"]')
        expect(page.locator('[data-testid="episode-count"]')).to_have_text("1")
        _stop_from_the_page(page)

        sessions = page.locator('[data-testid="sessions"] > li')
        expect(sessions).to_have_count(2)
        newest = sessions.first
        expect(newest).to_have_attribute("data-strategy", "dagger")
        expect(newest).to_contain_text("1 episode in tester/page_dagger")
        expect(newest.locator('[data-testid="session-episodes"] li')).to_have_count(1)
        # prefilled from the last session: dagger, the built-in policy, rtc, the dataset's name (unstamped)
        expect(page.locator('[data-testid="session-strategy"]')).to_have_value("dagger")
        expect(page.locator('[data-testid="session-builtin"]')).to_have_value("builtin:sim_flow")
        expect(page.locator('[data-testid="session-engine"]')).to_have_value("rtc")
        expect(page.locator('[data-testid="session-repo-id"]')).to_have_value("tester/page_dagger")
        expect(page.locator('[data-testid="session-task"]')).to_have_value("put the cube on the target")

        # and again: back to the scripted expert without a dataset
        page.select_option('[data-testid="session-strategy"]', "base")
        expect(page.locator('[data-records]')).to_be_hidden()
        page.check('input[name="policy_source"][value="scripted"]')
        page.select_option('[data-testid="session-engine"]', "sync")
        page.click('[data-testid="start-session"]')
        expect(page.locator('[data-testid="strategy"]')).to_have_text("base")
        expect(page.locator(PHASE)).to_have_text("autonomous")
        expect(page.locator('[data-testid="policy-name"]')).not_to_have_text("flow:sim_flow")

        records = httpx.get(url + "/api/v1/sessions").json()["data"]
        assert [r["strategy"] for r in records] == ["base", "dagger", "base"]
        assert records[1]["episodes_saved"] == 1 and records[1]["end_cause"] == "stopped"
        assert verify_dataset(records[1]["dataset"]["root"]).ok
        assert proc.poll() is None  # one server process throughout


def test_the_tablet_stops_and_starts_sessions(browser: Browser, tmp_path) -> None:
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        with cli_server(*_flags(tmp_path)) as (url, _):
            page.goto(url + "/tablet")
            expect(page.locator(PHASE)).to_have_text("autonomous")
            server_id = httpx.get(url + "/api/v1/status").json()["server_id"]
            _stop_from_the_page(page)
            assert "tablet" in (page.locator("body").get_attribute("class") or "")
            start = page.locator('[data-testid="start-session"]')
            box = start.bounding_box()
            assert box is not None and box["height"] >= 56  # a touch target
            estop = page.locator('[data-command="estop"]')
            expect(estop).to_be_enabled()
            estop.tap()  # accepted while idle, and changes nothing
            expect(page.locator(PHASE)).to_have_text("idle")
            page.select_option('[data-testid="session-strategy"]', "sentry")
            page.fill('[data-testid="session-repo-id"]', "")
            start.tap()
            expect(page.locator('[data-error-for="dataset.repo_id"]')).to_contain_text("repo_id")
            page.fill('[data-testid="session-repo-id"]', "tester/tablet_sentry")
            start.tap()
            expect(page.locator(PHASE)).to_have_text("autonomous")
            assert page.url.endswith("/tablet")
            wait_until(lambda: (httpx.get(url + "/api/v1/status").json().get("recording") or {}).get("frames", 0) > 5,
                       message="sentry recording")
            _stop_from_the_page(page)
            # a dagger session with another policy (the built-in flow policy) and a dataset, all by touch
            page.select_option('[data-testid="session-strategy"]', "dagger")
            page.check('input[name="policy_source"][value="builtin"]')
            page.select_option('[data-testid="session-builtin"]', "builtin:sim_flow")
            page.fill('[data-testid="session-repo-id"]', "tester/tablet_dagger")
            start.tap()
            expect(page.locator(PHASE)).to_have_text("autonomous")
            assert httpx.get(url + "/api/v1/status").json()["policy"]["name"] == "flow:sim_flow"
            _stop_from_the_page(page)
            # and again, back to base with the scripted policy
            page.select_option('[data-testid="session-strategy"]', "base")
            page.check('input[name="policy_source"][value="scripted"]')
            start.tap()
            expect(page.locator(PHASE)).to_have_text("autonomous")
            status = httpx.get(url + "/api/v1/status").json()
            assert status["server_id"] == server_id and status["strategy"] == "base"
            records = httpx.get(url + "/api/v1/sessions").json()["data"]
            assert [r["strategy"] for r in records] == ["base", "sentry", "dagger", "base"]
            assert records[2]["dataset"]["repo_id"].startswith("tester/tablet_dagger")  # stamped: a fresh dataset
    finally:
        context.close()
    assert not errors, errors
