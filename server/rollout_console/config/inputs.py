"""Configuration of server-side inputs and of access to the console: foot pedal, operator lease, auth.

The integrator mounts these as ``pedal: PedalConfig``, ``lease: LeaseConfig`` and ``server.auth: AuthConfig``
so their flags read ``--pedal.device_path``, ``--lease.timeout_s`` and ``--server.auth.allowed_origins``.
Validators do no I/O: the pedal's device is opened (and retried) by ``rollout_console.inputs.pedal``.
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator, model_validator

from .base import StrictModel, split_list

__all__ = [
    "DEFAULT_PEDAL_PATH",
    "PEDAL_ACTIONS",
    "AuthConfig",
    "LeaseConfig",
    "PedalConfig",
    "evdev_key_names",
    "normalize_origin",
]

DEFAULT_PEDAL_PATH = "/dev/input/by-id/usb-PCsensor_FootSwitch-event-kbd"
PEDAL_ACTIONS = ("pause_resume", "takeover_handback", "upload")
"""The pedal's toggles, in flag order; each maps one key code to a phase-dependent command."""

_KEY_NAME = re.compile(r"^(KEY|BTN)_[A-Z0-9_]+$")


@functools.cache
def evdev_key_names() -> frozenset[str] | None:
    """Every EV_KEY code name evdev knows (``KEY_A``, ``BTN_0``, ...), or None without evdev (not Linux)."""
    try:
        from evdev import ecodes
    except ImportError:
        return None
    return frozenset(name for name in ecodes.ecodes if _KEY_NAME.match(name))


def _check_key_name(value: str | None) -> str | None:
    if value is None:
        return None
    name = value.strip().upper()
    if not name.startswith(("KEY_", "BTN_")):
        name = f"KEY_{name}"  # "a" and "KEY_A" both mean KEY_A
    known = evdev_key_names()
    if known is None:
        if not _KEY_NAME.match(name):
            raise ValueError(f"{value!r} is not an evdev key name (such as KEY_A or BTN_0)")
        return name  # without evdev only the form can be checked; the pedal reports a bad name at start
    if name not in known:
        close = difflib.get_close_matches(name, sorted(known), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"{value!r} is not an evdev key name (such as KEY_A or BTN_0){hint} "
            "Run `python -m evdev.evtest` and press the pedal to see the names it sends."
        )
    return name


class PedalConfig(StrictModel):
    """USB foot pedal read on the server with evdev; each pedal is a toggle turned into explicit commands.

    Enabling: ``--pedal.enabled=true`` uses the default device path; giving ``--pedal.device_path`` alone
    also enables the pedal (a path is only given to use it); ``--pedal.enabled=false`` always wins.
    """

    enabled: bool = Field(
        False, description="Read the foot pedal (also enabled by giving --pedal.device_path)"
    )
    device_path: str = Field(
        DEFAULT_PEDAL_PATH,
        min_length=1,
        description="evdev event node of the pedal; prefer the stable /dev/input/by-id/...-event-kbd name",
    )
    pause_resume: str | None = Field(
        "KEY_A", description="Key code of the pause/resume pedal: pause while autonomous, resume while paused, "
                 "clear the E-STOP (reset: it then holds) while estopped"
    )
    takeover_handback: str | None = Field(
        "KEY_B",
        description="Key code of the takeover/handback pedal: takeover when paused, handback when correcting",
    )
    upload: str | None = Field("KEY_C", description="Key code of the upload pedal (null disables it)")
    grab: bool = Field(
        True,
        description="Grab the pedal exclusively so its keystrokes do not also type into a desktop window",
    )
    retry_s: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Seconds between attempts to open a missing, unplugged or unreadable pedal",
    )

    @model_validator(mode="before")
    @classmethod
    def _path_enables(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("device_path") is not None and "enabled" not in data:
            return {**data, "enabled": True}
        return data

    @field_validator(*PEDAL_ACTIONS)
    @classmethod
    def _code(cls, value: str | None, info: ValidationInfo) -> str | None:
        name = _check_key_name(value)
        for action in PEDAL_ACTIONS:
            if action == info.field_name:
                break
            if name is not None and info.data.get(action) == name:
                raise ValueError(
                    f"{name} is already the code of --pedal.{action}; each pedal needs its own code"
                )
        return name

    def codes(self) -> dict[str, str]:
        """Configured ``{key name: action}`` (disabled actions left out)."""
        return {code: action for action in PEDAL_ACTIONS if (code := getattr(self, action)) is not None}


class LeaseConfig(StrictModel):
    """The controlling client holds a lease renewed by heartbeats; silence pauses a moving robot.

    Worst case from the moment the lease lapses to the pause being applied: one watcher check
    (``pause_within_s / 10``) plus one control tick; ``pause_within_s`` is the promised bound.
    """

    timeout_s: float = Field(
        1.5, gt=0, le=600, description="The lease lapses this long after the holder's last heartbeat"
    )
    heartbeat_s: float = Field(0.5, gt=0, le=300, description="How often the page sends a heartbeat")
    pause_within_s: float = Field(
        0.5,
        gt=0,
        le=10,
        description="Bound from a lapse to the session pausing (sets the watcher's interval)",
    )
    pause_on_lapse: bool = Field(
        True, description="Pause a moving robot (autonomous, correcting) when the lease lapses"
    )
    pause_on_release: bool = Field(True, description="Pause a moving robot when its holder releases control")
    pause_on_force: bool = Field(
        True, description="Pause a moving robot when another operator forces a take-over"
    )
    request_timeout_s: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="A request for control the holder has not answered expires after this",
    )

    @field_validator("heartbeat_s")
    @classmethod
    def _heartbeat_fits(cls, value: float, info: ValidationInfo) -> float:
        timeout = info.data.get("timeout_s")
        if timeout is not None and value * 1.2 > timeout:
            raise ValueError(
                f"must leave room under --lease.timeout_s ({timeout:g} s): at most {timeout / 1.2:.3g} s, "
                "or a heartbeat that is a little late lapses the lease"
            )
        return value

    @property
    def check_interval_s(self) -> float:
        """How often the watcher thread looks for a lapse."""
        return self.pause_within_s / 10.0


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` lower-cased, default ports dropped; ValueError if it is not an origin."""
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin such as https://robot.lab:8443")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{value!r} is not an origin: give only scheme://host[:port]")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} has an invalid port") from exc
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = 80 if parts.scheme == "http" else 443
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None and port != default else "")


class AuthConfig(StrictModel):
    """Who may connect. Loopback needs no token; any other address needs the operator token.

    Tokens come from the environment (ROLLOUT_CONSOLE_TOKEN, ROLLOUT_CONSOLE_VIEWER_TOKEN), never from
    flags, so they do not end up in shell history, process listings or saved configs.
    """

    require_token: bool = Field(
        False, description="Require the token even on loopback (e.g. behind a reverse proxy on this machine)"
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Extra browser origins allowed to connect, comma separated (e.g. https://robot.lab)",
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Extra Host names accepted while bound to loopback (a reverse proxy's public name)",
    )

    _split = field_validator("allowed_origins", "allowed_hosts", mode="before")(split_list)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [normalize_origin(item) for item in value]

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        hosts = []
        for item in value:
            host = item.strip().lower()
            if not host or "/" in host or " " in host:
                raise ValueError(f"{item!r} is not a host name (give robot.lab or robot.lab:8443)")
            hosts.append(host)
        return hosts
