"""lerobot-style ``--dotted.key=value`` flags: parsing, file merging, error naming and ``--help``.

Values stay strings and pydantic converts them to the field's type, so ``--fps=30`` and
``fps: 30`` in a YAML file end up identical. Values that start with ``{`` or ``[`` are parsed as
YAML (a superset of JSON) so nested options such as ``--robot.cameras='[front, top]'`` work.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..errors import ConfigError
from .root import RolloutConsoleConfig

__all__ = [
    "REQUIRED",
    "default_text",
    "flag_names",
    "help_text",
    "load_config",
    "parse_flags",
    "validation_error_to_config_error",
    "walk_options",
]

_NULLS = {"null", "~"}  # not "none": it is a legitimate value of some options


def parse_flags(argv: Sequence[str]) -> tuple[dict[str, Any], str | None]:
    """Turn ``argv`` into a nested dict of raw values plus the ``--config`` path, if any."""
    tree: dict[str, Any] = {}
    config_path: str | None = None
    items = list(argv)
    i = 0
    while i < len(items):
        arg = items[i]
        i += 1
        if not arg.startswith("--") or len(arg) == 2:
            raise ConfigError(f"unexpected argument {arg!r}; options look like --name=value")
        key, has_value, value = arg[2:].partition("=")
        if not has_value:
            if i < len(items) and not items[i].startswith("--"):
                value = items[i]
                i += 1
            else:
                raise ConfigError("needs a value (use --name=value)", flag=f"--{key}")
        key = key.replace("-", "_")
        if key == "config":
            config_path = value
            continue
        parts = key.split(".")
        if not all(part.isidentifier() for part in parts):
            raise ConfigError("is not a valid option name", flag=f"--{key}")
        _set_path(tree, parts, _parse_value(value), key)
    return tree, config_path


def _parse_value(value: str) -> Any:
    stripped = value.strip()
    if stripped.lower() in _NULLS:
        return None
    if stripped.startswith(("{", "[")):
        try:
            return yaml.safe_load(stripped)
        except yaml.YAMLError:
            return value
    return value


def _set_path(tree: dict[str, Any], parts: list[str], value: Any, key: str) -> None:
    node = tree
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            prefix = ".".join(parts[: depth + 1])
            raise ConfigError(f"conflicts with --{prefix} given as a single value", flag=f"--{key}")
        node = child
    node[parts[-1]] = value


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into ``base``; nested dicts merge, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_file(path: str) -> dict[str, Any]:
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", flag="--config") from exc
    try:
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path} is not valid {'JSON' if file.suffix == '.json' else 'YAML'}: {exc}",
                          flag="--config") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of options", flag="--config")
    return data


def load_config(argv: Sequence[str]) -> RolloutConsoleConfig:
    """Parse flags (over an optional ``--config`` file) into a validated configuration.

    Raises ConfigError naming the offending flag; nothing is connected or opened before this returns.
    """
    tree, config_path = parse_flags(argv)
    raw = deep_merge(_read_file(config_path), tree) if config_path else tree
    try:
        return RolloutConsoleConfig.model_validate(raw)
    except ValidationError as exc:
        raise validation_error_to_config_error(exc, raw) from None


def validation_error_to_config_error(exc: ValidationError, raw: Mapping[str, Any],
                                     known_flags: Sequence[str] | None = None) -> ConfigError:
    """Name the failing flags, skipping the union tags pydantic puts into error locations.

    ``known_flags`` (default: the console's) feed "did you mean" suggestions.
    """
    known = list(known_flags) if known_flags is not None else flag_names()
    messages = []
    first_flag: str | None = None
    for error in exc.errors():
        flag = _flag_from_loc(error["loc"], raw, error["type"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found") and flag:
            flag += ".type"  # the discriminator itself is at fault
        message = _describe(error, flag, known)
        # validators that know the exact flag say it first; otherwise prefix the option at fault
        messages.append(message if not flag or message.startswith("--") else f"{flag}: {message}")
        first_flag = first_flag or flag
    return ConfigError("; ".join(messages[:3]) + (" (and more)" if len(messages) > 3 else ""))


def _flag_from_loc(loc: tuple[Any, ...], raw: Mapping[str, Any], kind: str = "") -> str | None:
    if not loc:
        return None
    parts: list[str] = []
    node: Any = raw
    for index, element in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, Mapping) and element in node:
            parts.append(str(element))
            node = node[element]
        elif isinstance(node, list) and isinstance(element, int):
            parts[-1] = f"{parts[-1]}[{element}]" if parts else f"[{element}]"
            node = node[element] if element < len(node) else None
        elif last and (kind == "missing" or not isinstance(node, Mapping)):
            parts.append(str(element))  # a missing option is named by the location's last element
        # otherwise: a union tag or validator name inserted by pydantic (also as the last element of a
        # model-level error inside a union variant); skip it
    return "--" + ".".join(parts) if parts else None


def _describe(error: Mapping[str, Any], flag: str | None, known: Sequence[str]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        suggestion = difflib.get_close_matches(flag or "", known, n=1)
        hint = f" (did you mean {suggestion[0]}?)" if suggestion else " (see --help)"
        return f"unknown option{hint}"
    if kind == "missing":
        nested = [name for name in known if flag and name.startswith(flag + ".")]
        return f"is required: give {', '.join(nested[:3])}" if nested else "is required"
    message = str(error["msg"])
    if kind == "union_tag_invalid":
        context = error.get("ctx", {})
        return f"unknown type {context.get('tag')!r}; expected one of {context.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "needs a type (see --help for the choices)"
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    if "input" in error and kind not in {"missing", "model_type"} and not isinstance(error["input"], dict):
        message += f" (got {error['input']!r})"
    return message


# --------------------------------------------------------------------------------------------- help


def _model_variants(annotation: Any) -> list[type[BaseModel]]:
    """The BaseModel classes an annotation can hold (one, or the members of a union)."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _model_variants(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [model for arg in get_args(annotation) for model in _model_variants(arg)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _type_label(field: FieldInfo) -> str:
    annotation = field.annotation
    literal_args = _literal_args(annotation)
    if literal_args:
        return "{" + ",".join(map(str, literal_args)) + "}"
    text = getattr(annotation, "__name__", None) or str(annotation)
    return text.replace("typing.", "").replace("NoneType", "None").upper()


def _literal_args(annotation: Any) -> tuple[Any, ...]:
    origin = get_origin(annotation)
    if origin is typing.Literal:
        return get_args(annotation)
    if origin in (list, Union, types.UnionType, typing.Annotated):
        found: tuple[Any, ...] = ()
        for arg in get_args(annotation):
            found += _literal_args(arg)
        return found
    return ()


REQUIRED = "required"
"""What ``--help`` and the reference show for an option without a default (never pydantic's sentinel)."""


def default_text(field: FieldInfo) -> str:
    """A field's default as an operator types it (``null``, ``true``, ``a,b``), ``required`` when it has none,
    and ``""`` when there is nothing useful to show (a nested model, an empty text the description explains)."""
    if field.is_required():
        return REQUIRED
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is PydanticUndefined:
        return REQUIRED
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, list):
        return ",".join(map(str, value))
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def walk_options(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, str, str, str]]:
    """Yield (flag, type label, default, description) rows, recursing into nested models."""
    for name, field in model.model_fields.items():
        flag = f"{prefix}{name}"
        variants = _model_variants(field.annotation)
        if not variants:
            yield flag, _type_label(field), default_text(field), field.description or ""
            continue
        if len(variants) == 1 and "type" not in variants[0].model_fields:
            optional = field.default is None
            note = " (set any of these to enable)" if optional else ""
            summary = field.description or (variants[0].__doc__ or "").strip().splitlines()[0]
            yield f"{flag}.*", "", "", summary.strip() + note
            yield from walk_options(variants[0], f"{flag}.")
            continue
        types_ = [v.model_fields["type"].default for v in variants]
        default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
        default_type = REQUIRED if field.is_required() or default is PydanticUndefined else getattr(
            default, "type", "null")
        yield f"{flag}.type", "{" + ",".join(types_) + "}", str(default_type), field.description or ""
        for variant in variants:
            rows = list(walk_options(variant, f"{flag}."))
            rows = [row for row in rows if row[0] != f"{flag}.type"]
            doc = (variant.__doc__ or "").strip().splitlines()[0] if variant.__doc__ else ""
            yield f"  [{flag}.type={variant.model_fields['type'].default}]", "", "", doc
            yield from rows


def flag_names() -> list[str]:
    """Every valid flag, for suggestions."""
    return [row[0] for row in walk_options(RolloutConsoleConfig, "--") if not row[0].startswith(" ")]


def help_text(program: str = "rollout-console") -> str:
    """The ``--help`` page: every option with its type and default."""
    lines = [
        f"usage: {program} [--config=FILE] [--option=value ...]",
        f"       {program} train --dataset.root=DIR --output_dir=DIR [--option=value ...]  (see train --help)",
        "",
        "Options are lerobot-style dotted flags; flags override values from --config (YAML or JSON).",
        "Defaults are in brackets; [required] marks an option without one (in a group such as --dataset.*,",
        "only once the group is used).",
        "",
        f"  {'--config=FILE':<46} YAML or JSON file with options",
    ]
    for flag, label, default, description in walk_options(RolloutConsoleConfig, "--"):
        if flag.startswith(" "):
            lines.append(f"\n {flag.strip()}  {description}")
            continue
        name = f"{flag}={label}" if label else flag
        default_part = f" [{default}]" if default != "" else ""
        lines.append(f"  {name:<46} {description}{default_part}")
    return "\n".join(lines) + "\n"
