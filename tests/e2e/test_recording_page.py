"""Recording from the page: save, see the episode listed, review it (videos in sync with curves)."""

from __future__ import annotations

import pytest
from helpers import cli_server, dataset_flags
from page_flags import PAGE_FLAGS
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("vcodec", ["libsvtav1", "h264"])
def test_save_from_the_page_lists_and_reviews_the_episode(page: Page, tmp_path, vcodec) -> None:
    # the later --dataset.vcodec wins over the helper's default
    flags = dataset_flags(tmp_path / "ds", "sentry", f"--dataset.vcodec={vcodec}", "--server.exit_when_stopped=false")
    with cli_server(*PAGE_FLAGS, *flags) as (url, _):
        page.goto(url)
        expect(page.locator('[data-testid="recording"]')).to_have_attribute("data-state", "recording")
        page.wait_for_function("Number(document.querySelector('[data-testid=episode-frames]').textContent) > 30")
        page.click('[data-save-outcome="success"]')
        item = page.locator('[data-testid="episodes"] li[data-episode="0"]')
        expect(item).to_contain_text("success", timeout=90_000)  # listed once durable (encoding may lag under load)
        expect(page.locator('[data-testid="episode-count"]')).to_have_text("1")
        item.locator("[data-review]").click()
        dialog = page.locator('[data-testid="review-dialog"]')
        expect(dialog).to_be_visible()
        for camera in ("front", "top"):
            page.wait_for_function(
                f"document.querySelector('[data-testid=review-video-{camera}]').readyState >= 2", timeout=30_000)
        page.click('[data-testid="review-play"]')
        page.wait_for_function("Number(document.querySelector('[data-testid=review-dialog]').dataset.time) > 0.3",
                               timeout=30_000)
        # Playing: the followers are pulled to the first video whenever they drift by more than 50 ms. A
        # loaded machine may stall one decoder for a moment, so wait (not sleep) until they agree.
        drift = """() => {
            const [a, b] = [...document.querySelectorAll('[data-testid=review-videos] video')];
            return Math.abs(a.currentTime - b.currentTime);
        }"""
        page.wait_for_function(f"({drift})() < 0.15")
        # Paused: the last sync leaves every video within the tolerance of the first, whatever the load.
        page.click('[data-testid="review-play"]')
        page.wait_for_function("[...document.querySelectorAll('[data-testid=review-videos] video')].every((v) => v.paused)")
        page.wait_for_function(f"({drift})() <= 0.051")
        page.click('[data-testid="review-close"]')
        expect(dialog).to_be_hidden()
