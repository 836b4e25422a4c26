"""The operator pages put the robot first, at every viewport, in every phase of every strategy.

For the desktop page and the tablet view at 1440x900, 1280x800, 1024x768, 768x1024 and 390x844, in each
phase a script can drive (STEPS), then on the idle page after Stop, and once the server is gone (the page
no longer live, with its red banner): the cameras, the phase, E-STOP and every enabled command button are
inside the viewport without scrolling, at least touch size (cameras at least MIN_CAMERA_PX wide), not
covered by anything (elementFromPoint at their centre), and do not overlap each other; the page never
overflows horizontally. (This folds in the trust issue's E-STOP test: E-STOP is one of the checked items,
enabled in every state.) A screenshot per (strategy, page, phase, viewport) goes under
test-artifacts/screenshots/ for a person to look at.

One server per strategy and one page per view, resized in place; every wait is Playwright's polling with
generous limits (the layout refits on the next animation frame after a resize, whenever that comes).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from helpers import REPO, cli_server, dataset_flags
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

VIEWPORTS = [(1440, 900), (1280, 800), (1024, 768), (768, 1024), (390, 844)]
STRATEGIES = ["base", "sentry", "highlight", "dagger", "episodic"]
PHASE = '[data-testid="phase"]'
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
LAYOUT_TIMEOUT_MS = 20_000
MIN_TOUCH_PX = 48
MIN_CAMERA_PX = 120

Step = tuple[str | None, dict | None, str]
_PAUSE_ESTOP_RESET: list[Step] = [("pause", None, "paused"), ("estop", None, "estopped"), ("reset", None, "paused"),
                                  ("resume", None, "autonomous")]
STEPS: dict[str, list[Step]] = {
    # (command sent over REST, its body, the phase it leads to); the pages only watch
    "base": [(None, None, "autonomous"), *_PAUSE_ESTOP_RESET],
    "sentry": [(None, None, "autonomous"), ("save", None, "autonomous"), *_PAUSE_ESTOP_RESET],
    "highlight": [(None, None, "autonomous"), ("mark", None, "autonomous"), *_PAUSE_ESTOP_RESET],
    "dagger": [(None, None, "autonomous"), ("pause", None, "paused"), ("takeover", None, "correcting"),
               ("handback", None, "paused"), ("estop", None, "estopped"), ("reset", None, "paused"),
               ("resume", None, "autonomous")],
    "episodic": [(None, None, "resetting"), ("end_reset", None, "autonomous"),
                 ("end_episode", None, "awaiting_outcome"), ("save", {"outcome": "success"}, "resetting"),
                 ("pause", None, "paused"), ("estop", None, "estopped"), ("reset", None, "paused"),
                 ("stop", None, "idle")],
}
"""Then Stop (the pages turn into the idle page) and the server is killed (not live). The base strategy is
killed mid-session instead, so the session pages are also checked not live, under the red banner. A phase
the pages were already checked in (paused again after Clear E-STOP, ...) is driven through, not checked
again: the same phase shows the same buttons."""

EPISODIC_FLAGS = ["--strategy.type=episodic", "--strategy.outcome_from=operator", "--strategy.end_on_success=false",
                  "--strategy.num_episodes=4",
                  "--strategy.episode_time_s=600", "--strategy.reset_time_s=600", "--return_duration_s=0.3"]

# Everything the operator must see and reach, with what each is (the items of one page, in order).
_ITEMS_JS = """() => {
    const items = [];
    const shown = (el) => el.getClientRects().length > 0;
    const phase = document.querySelector('[data-testid="phase"]');
    items.push({ el: phase, what: 'phase', min: 0 });
    // the cameras of a session page (the idle page's New session form comes first; its previews are below)
    const cameras = document.body.dataset.sessionId ? document.querySelectorAll('[data-camera] canvas') : [];
    for (const canvas of cameras) {
        items.push({ el: canvas, what: `camera ${canvas.closest('[data-camera]').dataset.camera}`, min: %(camera)d,
                     minHeight: 0 });
    }
    // every enabled command button but the evaluation panel's outcome buttons (the command bar has them too)
    for (const button of document.querySelectorAll('button[data-command], button[data-save-outcome]')) {
        if (button.disabled || !shown(button) || button.closest('.evaluation-panel')) continue;
        const name = button.dataset.command || `save ${button.dataset.saveOutcome}`;
        items.push({ el: button, what: `button ${name}`, min: %(touch)d });
    }
    return items;
}"""

LAYOUT_PROBLEMS_JS = """() => {
    const items = (%(items)s)();
    const problems = [];
    const vw = window.innerWidth, vh = window.innerHeight, slack = 0.5;
    const scroller = document.scrollingElement;
    if (scroller.scrollWidth > vw) problems.push(`horizontal overflow: scrollWidth ${scroller.scrollWidth} > ${vw}`);
    if (window.scrollY !== 0 || window.scrollX !== 0) problems.push(`scrolled to ${window.scrollX},${window.scrollY}`);
    if (!items.some((item) => item.what === 'button estop')) problems.push('no enabled E-STOP on the page');
    const boxes = items.map((item) => ({ ...item, r: item.el.getBoundingClientRect() }));
    for (const { el, what, min, minHeight, r } of boxes) {
        const where = `${what} at ${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}`;
        if (r.left < -slack || r.top < -slack || r.right > vw + slack || r.bottom > vh + slack) {
            problems.push(`${where} is not inside the ${vw}x${vh} viewport`);
            continue;
        }
        if (r.width < min || r.height < (minHeight ?? min)) problems.push(`${where} is smaller than ${min} px`);
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (!(hit === el || el.contains(hit))) {
            const by = hit ? `${hit.tagName.toLowerCase()}${hit.className ? '.' + hit.className : ''}` : 'nothing';
            problems.push(`${where} is covered by ${by}`);
        }
    }
    for (let i = 0; i < boxes.length; i += 1) {
        for (let j = i + 1; j < boxes.length; j += 1) {
            const a = boxes[i].r, b = boxes[j].r;
            const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
            const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
            if (w > slack && h > slack) problems.push(`${boxes[i].what} overlaps ${boxes[j].what}`);
        }
    }
    return problems;
}""" % {"items": _ITEMS_JS % {"camera": MIN_CAMERA_PX, "touch": MIN_TOUCH_PX}}


def _name(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-")


def _check_layout(page: Page, label: str) -> list[str]:
    """Poll until the layout holds (it refits on the next frame after a resize); the problems if it never does."""
    try:
        page.wait_for_function(f"({LAYOUT_PROBLEMS_JS})().length === 0", timeout=LAYOUT_TIMEOUT_MS, polling=100)
        return []
    except Exception:  # the deadline passed: report what is wrong now
        return [f"{label}: {problem}" for problem in page.evaluate(LAYOUT_PROBLEMS_JS)]


def _check(pages: dict[str, Page], strategy: str, index: int, phase: str, live: bool, seen: list[str],
           problems: list[str]) -> None:
    for view, page in pages.items():
        expect(page.locator(PHASE)).to_have_text(phase)
        expect(page.locator(PHASE)).to_have_attribute("data-live", "true" if live else "false")
        for width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            label = f"{strategy} {view} {width}x{height} in {phase}{'' if live else ' (not live)'}"
            problems += _check_layout(page, label)
            folder = SCREENSHOTS / strategy
            folder.mkdir(parents=True, exist_ok=True)
            state = phase if live else f"{phase}-not-live"
            page.screenshot(path=str(folder / f"{view}-{index:02d}-{_name(state)}-{width}x{height}.png"),
                            animations="disabled", caret="hide")
            seen.append(label)


def _pages(browser: Browser, url: str) -> tuple[dict[str, Page], list]:
    contexts, pages = [], {}
    for view, path in (("desktop", "/"), ("tablet", "/tablet")):
        context = browser.new_context(viewport={"width": VIEWPORTS[0][0], "height": VIEWPORTS[0][1]})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(url + path)
        pages[view] = page
    return pages, contexts


def _command(url: str, name: str, body: dict | None) -> None:
    answer = httpx.post(f"{url}/api/v1/commands/{name}", json=body or {}, timeout=30)
    assert answer.status_code in (200, 202), f"{name}: {answer.status_code} {answer.text}"


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_robot_first_layout_at_every_viewport(browser: Browser, tmp_path: Path, strategy: str) -> None:
    flags = [*PAGE_FLAGS, "--return_to_initial_position=false", "--server.exit_when_stopped=false"]
    if strategy == "episodic":
        flags = [*flags, *EPISODIC_FLAGS, f"--strategy.output_dir={tmp_path / 'eval'}"]
    elif strategy != "base":
        flags = dataset_flags(tmp_path / "ds", strategy, *flags)
    steps = STEPS[strategy]
    seen: list[str] = []
    problems: list[str] = []
    with cli_server(*flags) as (url, proc):
        pages, contexts = _pages(browser, url)
        try:
            for page in pages.values():  # the pictures are in (for the screenshots), the grid fitted to them
                expect(page.locator("[data-camera][data-frames]")).not_to_have_count(0)
            index = 0
            checked: set[str] = set()
            for index, (command, body, phase) in enumerate(steps):
                if command is not None:
                    _command(url, command, body)
                if phase in checked:
                    for page in pages.values():  # the pages follow, so the next command starts from here
                        expect(page.locator(PHASE)).to_have_text(phase)
                    continue
                checked.add(phase)
                _check(pages, strategy, index, phase, True, seen, problems)
            last = steps[-1][2]
            if strategy != "base" and last != "idle":
                _command(url, "stop", None)
                index += 1
                last = "idle"
                checked.add(last)
                _check(pages, strategy, index, last, True, seen, problems)
            proc.kill()  # the page no longer live: E-STOP is the only command left, under the red banner
            proc.wait(timeout=30)
            for page in pages.values():
                expect(page.locator('[data-testid="banner"]')).to_be_visible()
            _check(pages, strategy, index + 1, last, False, seen, problems)
        finally:
            for context in contexts:
                context.close()
    assert not problems, "\n".join(problems)
    assert len(seen) == 2 * len(VIEWPORTS) * (len(checked) + 1), seen  # + 1: not live
