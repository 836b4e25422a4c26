"""Builds LeRobot robots and teleoperators from ``--robot.*`` / ``--teleop.*`` options.

The options are decoded by LeRobot's own config classes (draccus ``ChoiceRegistry``:
``RobotConfig.get_choice_class(type)``) and the device is created by LeRobot's own factories
(``make_robot_from_config``, ``make_teleoperator_from_config``), so every robot, teleoperator and
camera type LeRobot (or an installed ``lerobot_robot_*`` plugin) knows works, with LeRobot's option
names and defaults. Every problem is a ConfigError naming the flag, raised before anything connects.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import logging
import pkgutil
import re
import threading
from typing import Any

from ...config.lerobot import LeRobotRobotConfig, LeRobotTeleopConfig
from ...errors import ConfigError
from .robot import LeRobotRobot
from .teleop import LeRobotTeleop

__all__ = ["lerobot_device_config", "make_lerobot_robot", "make_lerobot_teleop", "register_lerobot_plugins",
           "require_lerobot"]

log = logging.getLogger(__name__)

INSTALL_HINT = ("install the LeRobot extra: pip install \"rollout-console[lerobot]\" on Python 3.12 (a checkout: "
                "`make lerobot-env`), see docs/lerobot.md")

_KINDS = {
    # kind -> (flag prefix, config module, config class, device packages, human name)
    "robot": ("--robot", "lerobot.robots", "RobotConfig", "lerobot.robots", "robot"),
    "teleop": ("--teleop", "lerobot.teleoperators", "TeleoperatorConfig", "lerobot.teleoperators", "teleoperator"),
}
_lock = threading.Lock()
_imported: set[str] = set()
_import_failures: dict[str, str] = {}
_plugins_done = False


def require_lerobot(flag: str) -> None:
    """Import LeRobot (after our torchvision shim); ConfigError naming ``flag`` when it is missing or is
    a release the console does not support (``version.SUPPORTED``)."""
    from . import _torchvision_cpu
    from .version import check_lerobot_version

    check_lerobot_version(flag)
    _torchvision_cpu.install()
    try:
        importlib.import_module("lerobot")
    except ImportError as exc:
        raise ConfigError(f"needs LeRobot, which is not installed ({exc}); {INSTALL_HINT}", flag=flag) from None


def _register_plugins_locked() -> None:
    global _plugins_done
    if not _plugins_done:
        from lerobot.utils.import_utils import register_third_party_plugins

        # every installed lerobot_robot_* / _teleoperator_* / _camera_* / _policy_* / _env_* distribution,
        # found and imported exactly as LeRobot's own CLIs (lerobot-record, lerobot-rollout) do
        register_third_party_plugins()
        _plugins_done = True


def register_lerobot_plugins() -> None:
    """Import LeRobot's third-party plugins once (they register their configs on import)."""
    with _lock:
        _register_plugins_locked()


def _import_packages(package: str) -> None:
    """Import every sub-package of ``package`` once, so their configs register; remember failures."""
    if package in _imported:
        return
    parent = importlib.import_module(package)
    for module in pkgutil.iter_modules(parent.__path__):
        if not module.ispkg:
            continue
        name = f"{package}.{module.name}"
        try:
            importlib.import_module(name)
        except Exception as exc:  # an optional SDK is missing: only that device type is unavailable
            _import_failures[name.rsplit(".", 1)[1]] = f"{type(exc).__name__}: {exc}"
    _imported.add(package)


def _registry(kind: str, device_type: str) -> Any:
    """LeRobot's config base class for ``kind`` with ``device_type`` registered (or a ConfigError)."""
    flag, module, class_name, packages, human = _KINDS[kind]
    require_lerobot(f"{flag}.type")
    base = getattr(importlib.import_module(module), class_name)
    with _lock:
        _import_packages("lerobot.cameras")  # camera types used inside --robot.cameras
        if device_type not in base.get_known_choices():
            _register_plugins_locked()
            _import_packages(packages)
    known = sorted(base.get_known_choices())
    if device_type not in known:
        close = difflib.get_close_matches(device_type, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        failed = sorted(name for name in _import_failures if name not in known)
        unavailable = f"; not importable here: {', '.join(failed)}" if failed else ""
        raise ConfigError(f"unknown LeRobot {human} type {device_type!r}{hint}; known: {', '.join(known)}"
                          f"{unavailable}", flag=f"{flag}.type")
    return base


def lerobot_device_config(kind: str, device_type: str, options: dict[str, Any]) -> Any:
    """Decode ``options`` into LeRobot's config object for ``device_type``; ConfigError names the flag."""
    flag = _KINDS[kind][0]
    base = _registry(kind, device_type)
    config_class = base.get_choice_class(device_type)
    fields = {f.name: f for f in dataclasses.fields(config_class) if f.init}
    for key in options:
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=1)
            hint = f"did you mean {flag}.{close[0]}? " if close else ""
            raise ConfigError(f"unknown option for {device_type} ({hint}its options: "
                              f"{', '.join(sorted(fields))})", flag=f"{flag}.{key}")
    missing = [name for name, f in fields.items() if name not in options and _required(f)]
    if missing:
        raise ConfigError(f"required by {kind} type {device_type}", flag=f"{flag}.{missing[0]}")
    import draccus

    try:
        return draccus.decode(config_class, dict(options))
    except Exception as exc:  # draccus DecodingError/ParsingError, or a ValueError from __post_init__
        raise _decode_error(exc, flag, device_type, list(options)) from None


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


_PATH = re.compile(r"^`([^`]+)`:\s*(.*)$", re.DOTALL)
_NO_CHOICE = re.compile(r"Couldn't find a choice class for '([^']*)' in <class '[\w.]*\.(\w+)'>")


def _decode_error(exc: Exception, flag: str, device_type: str, options: list[str]) -> ConfigError:
    """A ConfigError from a draccus error: "`cameras.front`: ..." becomes --robot.cameras.front; a
    failing ``__post_init__`` check is pinned on the option its message talks about."""
    messages: list[str] = []
    error: BaseException | None = exc
    while error is not None and len(messages) < 3:
        text = " ".join(str(error).split())
        if text and text not in messages:
            messages.append(text)
        error = error.__cause__
    first = messages[0] if messages else type(exc).__name__
    match = _PATH.match(first)
    if match:
        detail = match.group(2)
        choice = _NO_CHOICE.search(detail)
        if choice is not None and choice.group(2) == "CameraConfig":
            from lerobot.cameras import CameraConfig

            known = ", ".join(sorted(CameraConfig.get_known_choices()))
            detail = f"unknown camera type {choice.group(1)!r}; known: {known}"
        return ConfigError(f"{detail} ({device_type})", flag=f"{flag}.{match.group(1)}")
    detail = "; ".join(messages[1:]) if first.startswith("Couldn't instantiate") and len(messages) > 1 else first
    lowered = detail.lower()
    named = [key for key in options
             if re.search(rf"\b({re.escape(key.lower())}|{re.escape(key.lower().rstrip('s'))})\b", lowered)]
    target = f"{flag}.{named[0]}" if len(named) == 1 else f"{flag}.type"
    return ConfigError(f"invalid options for {device_type}: {detail}", flag=target)


def _construct(kind: str, device_type: str, factory: Any, config: Any) -> Any:
    flag = _KINDS[kind][0]
    try:
        return factory(config)
    except ImportError as exc:
        raise ConfigError(f"{device_type} needs a package that is not installed ({exc}); {INSTALL_HINT}",
                          flag=f"{flag}.type") from None
    except Exception as exc:
        raise ConfigError(f"cannot create the {device_type}: {type(exc).__name__}: {exc}",
                          flag=f"{flag}.type") from None


def make_lerobot_robot(config: LeRobotRobotConfig) -> LeRobotRobot:
    """A connected-later LeRobotRobot for a ``LeRobotRobotConfig`` (nothing is opened here)."""
    options = config.options
    lerobot_config = lerobot_device_config("robot", config.type, options)
    from lerobot.robots import make_robot_from_config

    robot = _construct("robot", config.type, make_robot_from_config, lerobot_config)
    return LeRobotRobot(robot, config.type, options)


def make_lerobot_teleop(config: LeRobotTeleopConfig) -> LeRobotTeleop:
    """A connected-later LeRobotTeleop for a ``LeRobotTeleopConfig`` (nothing is opened here)."""
    options = config.options
    lerobot_config = lerobot_device_config("teleop", config.type, options)
    from lerobot.teleoperators import make_teleoperator_from_config

    teleop = _construct("teleop", config.type, make_teleoperator_from_config, lerobot_config)
    return LeRobotTeleop(teleop, config.type, options)
