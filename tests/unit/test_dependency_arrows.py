"""The dependency arrows of docs/architecture.md, enforced by reading every import with ``ast``.

Each part of the package (a subpackage or a top-level module) may import only the parts ``ALLOWED`` lists.
The table is the rule: tighten it as seams are cut (``API_RUNTIME_MODULES`` is where "api reaches the runtime
only through the session façade" gets stricter). Imports under ``if TYPE_CHECKING:`` and inside functions
count too: a dependency is a dependency, whenever it runs.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "rollout_console"
ROOT = "<root>"  # rollout_console/__init__.py (the version)

ALLOWED: dict[str, frozenset[str]] = {
    "__main__": frozenset({"cli"}),
    "cli": frozenset({"api", "runtime", "inputs", "serving", "policies", "client", "config", "errors", ROOT}),
    # api -> runtime; hardware and inputs are still reached directly (until the session façade owns them)
    "api": frozenset({"runtime", "protocol", "hardware", "inputs", "config", "errors", ROOT}),
    "inputs": frozenset({"protocol", "config", "errors"}),
    "runtime": frozenset({"strategies", "inference", "recording", "hardware", "policies", "protocol", "config",
                          "errors", "features", "window"}),
    "strategies": frozenset({"inference", "recording", "hardware", "evaluation", "protocol", "config", "errors",
                             "features", "registry"}),
    "inference": frozenset({"policies", "config", "errors", "features", "window", "registry"}),
    "policies": frozenset({"hardware", "config", "errors", "features", "window", "registry"}),
    "serving": frozenset({"policies", "hardware", "config", "errors", "features", ROOT}),
    "recording": frozenset({"config", "errors", "features"}),
    "evaluation": frozenset({"errors"}),
    "hardware": frozenset({"config", "errors", "registry"}),
    "config": frozenset({"errors"}),
    "features": frozenset(),
    "window": frozenset(),
    "errors": frozenset(),
    "registry": frozenset({"errors"}),  # the one Registry class every kind of part uses
    "client": frozenset({"protocol"}),  # the light client: it ships without the rest (client/pyproject.toml)
    "protocol": frozenset(),  # the leaf: the standard library and pydantic only
    ROOT: frozenset(),
}
"""Which parts each part may import (itself always). Read it as the arrows of docs/architecture.md."""

API_RUNTIME_MODULES = frozenset({"rollout_console.runtime.session", "rollout_console.runtime.host",
                                 "rollout_console.runtime.facade",
                                 "rollout_console.runtime.builder"})
"""The runtime modules api may import: the session façade and the server-level host that holds the sessions."""

WEB_FRAMEWORKS = frozenset({"fastapi", "starlette", "uvicorn"})
WEB_ALLOWED = frozenset({"api", "cli"})
"""Only the API and the command line that serves it touch a web framework."""

PROTOCOL_THIRD_PARTY = frozenset({"pydantic"})


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:]) if "." in module else Path()
    base = PACKAGE / relative
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for every import in a file; ``from . import x`` names the submodule x."""
    module, is_package = _module_name(path)
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:  # `from pkg import submodule` depends on the submodule
                candidate = f"{target}.{alias.name}"
                yield node.lineno, candidate if target.startswith("rollout_console") and _exists(candidate) else target


def part_of(module: str) -> str:
    """rollout_console.api.routes.ws -> api; rollout_console.window -> window; rollout_console -> <root>."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_table_covers_every_part_and_has_no_cycle() -> None:
    parts = {part_of(_module_name(path)[0]) for path in _files()}
    assert parts <= set(ALLOWED), f"parts without a row in ALLOWED: {sorted(parts - set(ALLOWED))}"
    for part, allowed in ALLOWED.items():
        assert allowed <= set(ALLOWED), (part, allowed - set(ALLOWED))
    # a table with a cycle would allow an import cycle between parts: order it, layer by layer
    remaining = dict(ALLOWED)
    while remaining:
        leaves = [part for part, allowed in remaining.items() if not (allowed & set(remaining))]
        assert leaves, f"the allowed arrows form a cycle among {sorted(remaining)}"
        for part in leaves:
            del remaining[part]


def _violations() -> list[str]:
    found = []
    for path in _files():
        module, _ = _module_name(path)
        part = part_of(module)
        where = path.relative_to(PACKAGE.parent)
        for line, target in imports_of(path):
            top = target.split(".")[0]
            if top == "rollout_console":
                other = part_of(target)
                if other != part and other not in ALLOWED[part]:
                    found.append(f"{where}:{line}: {part} may not import {other} ({target})")
                if part == "api" and other == "runtime" and target not in API_RUNTIME_MODULES | {"rollout_console.runtime"}:
                    found.append(f"{where}:{line}: api reaches the runtime only through {sorted(API_RUNTIME_MODULES)}"
                                 f", not {target}")
            elif top in WEB_FRAMEWORKS and part not in WEB_ALLOWED:
                found.append(f"{where}:{line}: {part} is below the API and may not import {top}")
            elif part == "protocol" and top not in sys.stdlib_module_names and top not in PROTOCOL_THIRD_PARTY:
                found.append(f"{where}:{line}: protocol imports only the standard library and pydantic, not {top}")
    return found


def test_imports_follow_the_arrows() -> None:
    assert _violations() == []


def test_the_checker_sees_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong import is reported (the checker is not vacuous): relative, absolute and web-framework ones."""
    fake = tmp_path / "rollout_console"
    (fake / "strategies").mkdir(parents=True)
    (fake / "api").mkdir()
    (fake / "protocol").mkdir()
    for package in (fake, fake / "strategies", fake / "api", fake / "protocol"):
        (package / "__init__.py").write_text("")
    (fake / "api" / "routes.py").write_text("")
    (fake / "strategies" / "bad.py").write_text("from ..api import routes\nimport fastapi\n")
    (fake / "protocol" / "leaf.py").write_text("import numpy\nfrom rollout_console.strategies import bad\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    found = "\n".join(_violations())
    assert "strategies may not import api (rollout_console.api.routes)" in found
    assert "strategies is below the API and may not import fastapi" in found
    assert "protocol imports only the standard library and pydantic, not numpy" in found
    assert "protocol may not import strategies" in found
