"""One set of words for the commands: the desktop page, the tablet, the hotkey dialog and the stop dialog
use the command table's labels; the save buttons stand together, E-STOP apart; the hotkey dialog lists
every action of the strategy with its key; the stop confirmation says what Stop will do."""

from __future__ import annotations

import httpx
import pytest
from helpers import cli_server, dataset_flags
from page_flags import PAGE_FLAGS
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.e2e

PHASE = '[data-testid="phase"]'


def _button_texts(page: Page) -> dict[str, str]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('button[data-command]')]
        .map((b) => [b.dataset.command, b.textContent.trim()]))""")


def _groups(page: Page) -> list[list[str]]:
    """The command bar's groups, each as its buttons' commands (`save:<outcome>` for the outcome buttons)."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="command-bar"] .cmd-group')]
        .map((g) => [...g.querySelectorAll('button')].map((b) => b.dataset.command || `save:${b.dataset.saveOutcome}`))""")


def test_labels_groups_hotkeys_and_the_stop_dialog(browser: Browser, tmp_path) -> None:
    flags = dataset_flags(tmp_path / "ds", "dagger", *PAGE_FLAGS, "--return_duration_s=2.5",
                          "--server.exit_when_stopped=false")
    with cli_server(*flags) as (url, _):
        table = httpx.get(url + "/api/v1/commands", timeout=30).json()
        labels = {c["command"]: c["label"] for c in table["data"] if c["available"]}
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        try:
            desktop, tablet = context.new_page(), context.new_page()
            desktop.goto(url)
            tablet.goto(url + "/tablet")
            for page in (desktop, tablet):
                expect(page.locator(PHASE)).to_have_text("autonomous")
                buttons = _button_texts(page)
                # every command of the strategy but exclude has a button, named by its label, on both pages
                assert buttons == {name: label for name, label in labels.items() if name != "exclude"}, buttons
            assert labels["takeover"] == "Take over" and labels["reset"] == "Clear E-STOP"

            # the save buttons side by side in one group; E-STOP in none
            assert _groups(desktop) == [["pause", "resume", "reset"], ["takeover", "handback"],
                                        ["save", "save:success", "save:failure", "discard"], ["upload"], ["stop"]]
            expect(desktop.locator('[data-testid="command-bar"] > [data-command="estop"]')).to_have_count(1)

            # the hotkey dialog: a key for every action, Clear E-STOP on the pause/resume key, E-STOP named
            desktop.click('[data-testid="keymap-open"]')
            dialog = desktop.locator('[data-testid="keymap-dialog"]')
            expect(dialog).to_be_visible()
            rows = dialog.locator('[data-testid="keymap-list"] li')
            keyed = dict(zip(dialog.locator("li[data-action] > span").all_text_contents(),
                             dialog.locator("li[data-action] [data-key-action]").all_text_contents(), strict=True))
            assert keyed == {"Pause / resume": "Space", "Take over / hand back": "T", "Upload": "U", "Save": "S",
                             "Save ✓ success": "1", "Save ✗ failure": "2", "Discard": "D",
                             "Stop (asks first)": "Esc"}, keyed
            expect(rows.filter(has_text="Clear E-STOP")).to_contain_text("Space: the pause / resume key while estopped")
            expect(rows.filter(has_text="E-STOP").last).to_contain_text("no key")
            desktop.click('[data-testid="keymap-close"]')

            # the stop dialog says what will happen, with the button's label; after an E-STOP, no move home
            desktop.click('[data-command="stop"]')
            confirm = desktop.locator('[data-testid="confirm-dialog"]')
            expect(confirm.locator('[data-testid="stop-arm"]')).to_have_text(
                "The arm moves back to where it started (about 2.5 s).")
            expect(confirm.locator('[data-testid="stop-arm-estopped"]')).to_be_hidden()
            expect(confirm.locator('[data-testid="stop-data"]').first).to_have_text("The episode in progress is saved.")
            expect(confirm.locator('[data-testid="stop-data"]').last).to_contain_text("uploads are off")
            expect(confirm.locator('[data-testid="stop-next"]')).to_contain_text("this page shows New session")
            expect(confirm.locator('[data-testid="confirm-ok"]')).to_have_text(labels["stop"])
            desktop.click('[data-testid="confirm-cancel"]')
            desktop.click('[data-command="estop"]')
            expect(desktop.locator(PHASE)).to_have_text("estopped")
            desktop.click('[data-command="stop"]')
            expect(confirm.locator('[data-testid="stop-arm-estopped"]')).to_be_visible()
            expect(confirm.locator('[data-testid="stop-arm"]')).to_be_hidden()
            desktop.click('[data-testid="confirm-cancel"]')
            expect(desktop.locator(PHASE)).to_have_text("estopped")
        finally:
            context.close()
