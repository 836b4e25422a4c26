"""docs/configuration.md is generated from the models; this fails when someone forgets to regenerate it."""

from __future__ import annotations

from pathlib import Path

from rollout_console.config import flag_names
from rollout_console.config.reference import markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_configuration_reference_is_up_to_date() -> None:
    assert DOC.read_text() == markdown(), (
        "docs/configuration.md is stale: run `.venv/bin/python -m rollout_console.config.reference > docs/configuration.md`"
    )


def test_every_flag_is_documented() -> None:
    text = DOC.read_text()
    for name in flag_names():
        if not name.endswith(".*"):
            assert f"`{name}`" in text, name
