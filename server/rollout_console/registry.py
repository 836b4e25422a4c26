"""Registry: the one way a kind of part (strategy, robot, teleoperator, policy, engine) is named.

Each kind owns one ``Registry`` and each implementation registers its factory with the decorator
``@KIND.register("name")``. Factories import their heavy code (torch, LeRobot) only when called, so a
registry costs nothing until a part is built. An unknown name is a ConfigError naming the flag and
listing the known names, the same for every kind.

This module imports only the standard library and ``errors``, so any layer may hold a registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from .errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Names -> factories (or classes) of one kind; ``get`` refuses unknown names with a clear error."""

    def __init__(self, kind: str, flag: str) -> None:
        self.kind = kind
        self.flag = flag
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@ROBOTS.register("sim")`` over a factory adds it under ``name``."""

        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return add

    def get(self, name: str) -> T:
        """The entry named ``name``; a ConfigError naming the flag when there is none."""
        entry = self._entries.get(name)
        if entry is None:
            raise ConfigError(f"unknown {self.kind} {name!r} (known: {', '.join(self.names())})", flag=self.flag)
        return entry

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order."""
        return tuple(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
