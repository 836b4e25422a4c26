"""The evaluation panel in Chromium: episode k of N, outcomes from buttons and keys, bars with their 95 %
intervals updating after each episode, the comparison in words, exclusion with a reason, the tablet view."""

from __future__ import annotations

import pytest
from helpers import SMALL_CAMERAS, cli_server
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

PANEL = '[data-testid="evaluation"]'


def test_the_page_shows_live_results_with_intervals(page: Page, tmp_path) -> None:
    flags = ["--strategy.type=episodic", "--strategy.blind=true", "--strategy.outcome_from=operator",
             '--strategy.policies=[{type: scripted, name: A}, {type: scripted, name: B, max_joint_speed_deg_s: 90}]',
             "--strategy.num_episodes=4", "--strategy.episode_time_s=120", "--strategy.reset_time_s=0.3",
             "--return_duration_s=0.3", f"--strategy.output_dir={tmp_path}", "--server.exit_when_stopped=false"]
    with cli_server(*SMALL_CAMERAS, *flags) as (url, _):
        page.goto(url)
        panel = page.locator(PANEL)
        expect(panel).to_have_attribute("data-stage", "episode", timeout=20000)
        expect(page.locator('[data-testid="eval-episode"]')).to_have_text("episode 1 of 4")
        expect(page.locator('[data-testid="eval-policy"]')).to_have_text("hidden")
        expect(page.locator('[data-testid="phase"]')).to_have_text("autonomous")
        panel.locator('[data-save-outcome="success"]').click()
        expect(panel).to_have_attribute("data-finished", "1", timeout=15000)
        expect(panel).to_have_attribute("data-stage", "episode", timeout=20000)
        expect(page.locator('[data-testid="eval-episode"]')).to_have_text("episode 2 of 4")
        # the key labels only what can be labelled now: wait, as an operator would, for the enabled button
        expect(panel.locator('[data-save-outcome="failure"]')).to_be_enabled(timeout=20000)
        page.keyboard.press("2")  # failure
        expect(panel).to_have_attribute("data-finished", "2", timeout=15000)
        bars = panel.locator(".eval-bar")
        expect(bars).to_have_count(2)
        expect(panel.locator('.eval-bar[data-episodes="1"]')).to_have_count(2)  # balanced: one episode each
        intervals = panel.locator('[data-testid="eval-ci"]')
        expect(intervals).to_have_count(2)
        widths = intervals.evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
        assert all(width > 10 for width in widths), widths  # 1 episode each: wide intervals, drawn
        expect(page.locator('[data-testid="eval-summary"]')).to_contain_text("not distinguishable yet")
        expect(page.locator('[data-testid="eval-summary"]')).to_contain_text("more episodes each")
        page.once("dialog", lambda dialog: dialog.accept("the cube was not put back"))
        panel.locator(".eval-episodes-box summary").click()
        page.locator('[data-testid="eval-episodes"] [data-exclude="1"]').click()
        expect(page.locator('[data-testid="eval-episodes"] li[data-episode="1"]')).to_have_attribute(
            "data-excluded", "true")
        expect(page.locator('[data-testid="eval-episodes"] li[data-episode="1"]')).to_contain_text(
            "excluded: the cube was not put back")

        tablet = page.context.new_page()
        tablet.goto(url + "/tablet")
        expect(tablet.locator(PANEL)).to_be_visible()
        expect(tablet.locator(f"{PANEL} .eval-bar")).to_have_count(2)
        expect(tablet.locator('[data-testid="eval-episode"]')).to_contain_text("of 4")
        tablet.close()
