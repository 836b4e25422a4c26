"""The page says, before frames are lost, when this computer cannot encode what is being recorded: the
recording panel shows the CPU budget in force and, when it does not fit, what was measured and what to do."""

from __future__ import annotations

import httpx
from helpers import cli_server, wait_until
from page_flags import PAGE_FLAGS
from playwright.sync_api import Page, expect


def test_the_recording_panel_shows_the_budget_and_warns_when_it_cannot_fit(page: Page, tmp_path) -> None:
    # x264's slowest preset on three cameras needs several cores: more than the encoders' share on any
    # machine of fewer than ~20 cores
    flags = ["--strategy.type=sentry", "--dataset.repo_id=tester/budget_page", f"--dataset.root={tmp_path / 'ds'}",
             "--dataset.push_to_hub=false", "--dataset.stamp_repo_id=false", "--robot.cameras=front,top,side",
             "--dataset.vcodec=h264", "--dataset.preset=veryslow", "--dataset.encoder_threads=1",
             "--robot.camera_width=640", "--robot.camera_height=480"]  # full size (PAGE_FLAGS has small cameras)
    with cli_server(*PAGE_FLAGS, *flags) as (url, _):
        budget = wait_until(lambda: (b := httpx.get(f"{url}/api/v1/status", timeout=10).json()["cpu_budget"])
                            and b["fits"] is not None and b, timeout=180, message="the measured budget")
        page.goto(url)
        line = page.locator('[data-testid="cpu-budget"]')
        expect(line).to_contain_text("H.264 preset veryslow", timeout=30_000)
        expect(line).to_contain_text(f"{budget['cores']} CPU core")
        warning = page.locator('[data-testid="cpu-budget-warning"]')
        if budget["fits"] is False:
            expect(warning).to_be_visible(timeout=30_000)
            expect(warning).to_contain_text("This computer cannot keep up")
            expect(warning).to_contain_text("record fewer or smaller cameras")
            assert warning.get_attribute("data-level") == "warning"
        else:  # a very large machine: nothing to warn about
            expect(warning).to_be_hidden()
