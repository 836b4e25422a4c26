"""What ``wait_for`` waits for: one phase, any of several, or any phase (then only the predicate)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["PhaseWanted", "phase_matcher", "timeout_message"]

PhaseWanted = str | Iterable[str] | None


def phase_matcher(phase: PhaseWanted) -> Callable[[str], bool]:
    if phase is None:
        return lambda _: True
    if isinstance(phase, str):  # Phase is a StrEnum: a str too
        wanted = {str(phase)}
    else:
        wanted = {str(item) for item in phase}
    return lambda current: str(current) in wanted


def timeout_message(phase: PhaseWanted, until: Any, timeout: float, status: Any) -> str:
    what = []
    if phase is not None:
        what.append(f"phase {phase if isinstance(phase, str) else ' or '.join(map(str, phase))}")
    if until is not None:
        what.append(getattr(until, "__name__", "the condition"))
    notice = f" (notice: {status.notice})" if getattr(status, "notice", None) else ""
    return (f"waited {timeout:g} s for {' and '.join(what) or 'the console'}; the phase is still "
            f"{status.phase}{notice}")
