"""E-STOP is on screen without scrolling at every supported viewport, in every phase of every strategy,
on the desktop page and the tablet view (and still there once the page is no longer live)."""

from __future__ import annotations

import httpx
import pytest
from helpers import cli_server, dataset_flags
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

VIEWPORTS = [(1440, 900), (1280, 800), (1024, 768), (768, 1024)]
STRATEGIES = ["base", "sentry", "highlight", "dagger"]
PHASE = '[data-testid="phase"]'
ESTOP = '[data-command="estop"]'

# the phases a script can drive on the sim, in order: (command sent over REST, phase it leads to)
STEPS = {
    "base": [(None, "autonomous"), ("pause", "paused"), ("estop", "estopped"), ("reset", "paused"),
             ("resume", "autonomous"), ("stop", "idle")],
    "dagger": [(None, "autonomous"), ("pause", "paused"), ("takeover", "correcting"), ("handback", "paused"),
               ("estop", "estopped"), ("reset", "paused"), ("resume", "autonomous"), ("stop", "idle")],
}
"""After stop the server stays up: the pages show the idle page (New session form), E-STOP included."""


def _where(page: Page) -> dict:
    """E-STOP's box, the viewport, the scroll offset and what the browser would hit at E-STOP's centre."""
    return page.locator(ESTOP).evaluate("""(el) => {
        const box = el.getBoundingClientRect();
        const hit = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
        return { x: box.x, y: box.y, right: box.right, bottom: box.bottom, width: box.width, height: box.height,
                 vw: window.innerWidth, vh: window.innerHeight, scrollY: window.scrollY,
                 hit: hit === el || el.contains(hit), disabled: el.disabled };
    }""")


def _check(pages: dict[str, Page], phase: str, seen: list[str]) -> None:
    for view, page in pages.items():
        expect(page.locator(PHASE)).to_have_text(phase)
        for width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            where = _where(page)
            label = f"{view} {width}x{height} in {phase}: {where}"
            assert where["vw"] == width and where["vh"] == height, label
            assert where["scrollY"] == 0, label
            assert where["x"] >= 0 and where["y"] >= 0, label
            assert where["right"] <= width and where["bottom"] <= height, label
            assert where["width"] >= 48 and where["height"] >= 48, label  # a touch target
            assert where["hit"] and not where["disabled"], label  # not covered by anything, and it works
            seen.append(f"{view}@{width}x{height}/{phase}")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_estop_is_visible_without_scrolling(browser: Browser, tmp_path, strategy: str) -> None:
    flags = [*PAGE_FLAGS, "--return_to_initial_position=false", "--server.exit_when_stopped=false"]
    if strategy != "base":
        flags = dataset_flags(tmp_path / "ds", strategy, *flags)
    steps = STEPS.get(strategy, STEPS["base"])
    contexts = []
    seen: list[str] = []
    with cli_server(*flags) as (url, proc):
        try:
            pages = {}
            for view, path in (("desktop", "/"), ("tablet", "/tablet")):
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                contexts.append(context)
                pages[view] = context.new_page()
                pages[view].goto(url + path)
            for command, phase in steps:
                if command is not None:  # a script commands (nobody holds the lease); the pages only watch
                    answer = httpx.post(f"{url}/api/v1/commands/{command}", timeout=30)
                    assert answer.status_code == 200, answer.text
                _check(pages, phase, seen)
            proc.kill()  # and once the page is no longer live, E-STOP is still there (and the only command)
            proc.wait(timeout=30)
            for page in pages.values():
                expect(page.locator(PHASE)).to_have_attribute("data-live", "false")
            _check(pages, "idle", seen)
        finally:
            for context in contexts:
                context.close()
    assert len(seen) == 2 * len(VIEWPORTS) * (len(steps) + 1)
