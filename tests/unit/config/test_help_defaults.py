"""--help is readable: an option without a default says [required] (never pydantic's sentinel), defaults are
written as they are typed (null, true), in the console's help, the reference and the trainer's help."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field
from rollout_console.config import help_text
from rollout_console.config.flags import REQUIRED, default_text, walk_options
from rollout_console.config.reference import markdown
from rollout_console.config.root import RolloutConsoleConfig
from rollout_console.policies.flow.cli_flags import model_help
from rollout_console.policies.flow.train import TrainConfig

SENTINELS = ("PydanticUndefined", "[None]", "[False]", "[True]", "Ellipsis")


class _Sample(BaseModel):
    name: str = Field(description="required text")
    count: int = Field(..., description="required number")
    ratio: float | None = Field(None, description="optional")
    on: bool = Field(True, description="a switch")
    items: list[str] = Field(default_factory=lambda: ["a", "b"], description="a list")
    mode: Literal["x", "y"] = "x"


def test_default_text_of_each_kind_of_field() -> None:
    fields = _Sample.model_fields
    assert {name: default_text(field) for name, field in fields.items()} == {
        "name": REQUIRED, "count": REQUIRED, "ratio": "null", "on": "true", "items": "a,b", "mode": "x"}


def _line(text: str, flag: str) -> str:
    return next(line for line in text.splitlines() if re.match(rf"\s+{re.escape(flag)}(=|\s)", line))


def test_console_help_marks_every_required_option_and_shows_no_sentinel() -> None:
    text = help_text()
    for sentinel in SENTINELS:
        assert sentinel not in text, sentinel
    assert _line(text, "--dataset.repo_id").endswith("[required]")
    assert _line(text, "--fps").endswith("[30.0]")
    required = [flag for flag, _, default, _ in walk_options(RolloutConsoleConfig, "--") if default == REQUIRED]
    assert "--dataset.repo_id" in required
    for flag in required:
        assert f"{flag}=" in text and "[required]" in _line(text, flag), flag


def test_the_reference_and_the_trainer_say_required_too() -> None:
    reference = markdown()
    assert "PydanticUndefined" not in reference
    assert "| `--dataset.repo_id` | STR | *required* |" in reference
    trainer = model_help(TrainConfig, "rollout-console train")
    for sentinel in SENTINELS:
        assert sentinel not in trainer, sentinel
    assert _line(trainer, "--dataset.root").endswith("[required]")
    assert _line(trainer, "--dataset.image_key").endswith("[null]")
