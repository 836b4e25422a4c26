"""Which LeRobot releases the console supports, and the check run before LeRobot is used.

The adapters use LeRobot 0.6's API (``lerobot.utils.feature_utils``, processor pipelines, the RTC hooks of
its flow policies, the v3 dataset layout); 0.4 and 0.5 moved or lacked some of it, and a future 0.7 may
move it again. An unsupported install is refused with a message naming both versions, before anything
connects, instead of failing later with an ImportError deep inside a device or policy.
"""

from __future__ import annotations

import importlib.metadata
import re

from ...errors import ConfigError

__all__ = ["SUPPORTED", "SUPPORTED_TEXT", "check_lerobot_version", "installed_lerobot_version", "parse_version"]

SUPPORTED = ((0, 6, 0), (0, 7, 0))  # [lower, upper)
SUPPORTED_TEXT = "0.6.x (>=0.6.0,<0.7; tested with 0.6.1)"
INSTALL = 'pip install "rollout-console[lerobot]" (LeRobot 0.6 needs Python 3.12), see docs/lerobot.md'


def parse_version(text: str) -> tuple[int, int, int]:
    """``"0.6.1"`` / ``"0.6.1.dev3"`` / ``"0.7.0rc1"`` -> (0, 6, 1); unparseable parts count as 0."""
    numbers = [int(part) for part in re.findall(r"\d+", text.split("+", 1)[0])[:3]]
    return tuple((numbers + [0, 0, 0])[:3])  # type: ignore[return-value]


def installed_lerobot_version() -> str | None:
    """The installed LeRobot distribution's version (without importing it), or None."""
    try:
        return importlib.metadata.version("lerobot")
    except importlib.metadata.PackageNotFoundError:
        return None


def check_lerobot_version(flag: str | None = None, version: str | None = None) -> str:
    """The installed LeRobot version; ConfigError (naming ``flag``) when it is missing or unsupported."""
    found = version if version is not None else installed_lerobot_version()
    if found is None:
        raise ConfigError(f"needs LeRobot {SUPPORTED_TEXT}, which is not installed; {INSTALL}", flag=flag)
    low, high = SUPPORTED
    if not low <= parse_version(found) < high:
        raise ConfigError(f"LeRobot {found} is installed, but this rollout-console supports LeRobot "
                          f"{SUPPORTED_TEXT}; {INSTALL}", flag=flag)
    return found
