"""The page shows a remote policy's connection state (real serve-policy process, real console, Chromium)."""

from __future__ import annotations

import re

import pytest
from helpers import SMALL_CAMERAS, cli_server
from playwright.sync_api import Page, expect
from remote_fakes.fault_proxy import FaultProxy
from remote_fakes.processes import serve_policy

pytestmark = pytest.mark.e2e


def test_page_shows_the_policy_server_and_its_state_through_a_stall(page: Page) -> None:
    with serve_policy() as server:
        proxy = FaultProxy(("127.0.0.1", server.port))
        try:
            with cli_server(*SMALL_CAMERAS, "--policy.type=remote", f"--policy.url={proxy.url}",
                            "--policy.stall_after_ms=500", "--policy.request_timeout_s=30",
                            "--inference.queue_threshold=40", "--return_to_initial_position=false",
                            "--server.exit_when_stopped=false") as (url, _proc):
                page.goto(url)
                state = page.locator('[data-testid="policy-server-state"]')
                expect(page.locator('[data-testid="policy-server"]')).to_be_visible(timeout=30_000)
                expect(state).to_have_text(re.compile("streaming|degraded"), timeout=30_000)
                expect(page.locator('[data-testid="policy-server-detail"]')).to_contain_text(proxy.url)
                proxy.stall()
                expect(state).to_have_text("stalled", timeout=30_000)
                expect(page.locator('[data-testid="policy-server"]')).to_have_attribute("data-state", "stalled")
                expect(page.locator('[data-testid="phase"]')).to_have_text("paused", timeout=30_000)
                proxy.unstall()
        finally:
            proxy.close()
