"""lerobot-style ``--dotted.key=value`` flags for the trainer and the demo generator.

Reuses the console's flag parser; validation errors become ``ConfigError`` naming the flag, so the
commands exit with status 2 and say which option is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ...config.flags import default_text, parse_flags, validation_error_to_config_error
from ...errors import ConfigError

__all__ = ["model_flag_names", "model_help", "parse_model_flags"]

M = TypeVar("M", bound=BaseModel)


def _walk(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, str]]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _walk(annotation, f"{prefix}{name}.")
        else:  # the console's --help wording: null, true/false, required
            yield f"--{prefix}{name}", default_text(field), field.description or ""


def model_flag_names(model: type[BaseModel]) -> list[str]:
    return [flag for flag, _, _ in _walk(model, "")]


def model_help(model: type[BaseModel], program: str) -> str:
    lines = [f"usage: {program} [--option=value ...]", ""]
    for flag, default, description in _walk(model, ""):
        shown = f" [{default}]" if default != "" else ""
        lines.append(f"  {flag:<32} {description}{shown}")
    return "\n".join(lines) + "\n"


def parse_model_flags(model: type[M], argv: Sequence[str]) -> M:
    """Parse ``argv`` into ``model``; raises ConfigError naming the first bad flag."""
    tree, config_path = parse_flags(argv)
    if config_path is not None:
        raise ConfigError("is not supported here; pass every option as a flag", flag="--config")
    try:
        return model.model_validate(tree)
    except ValidationError as exc:
        raise validation_error_to_config_error(exc, tree, model_flag_names(model)) from None
