"""Foot pedal: key-downs from an evdev device, turned into explicit session commands on its own thread.

Each pedal is a toggle that this module owns: ``pause_resume`` sends ``pause`` while the robot moves under
the policy and ``resume`` while paused; ``takeover_handback`` sends ``takeover`` while paused and
``handback`` while correcting; ``upload`` sends ``upload``. The table is ``protocol.toggles.TOGGLES``, the
same one the page's hotkeys use. The toggle is resolved from the phase at the moment of the press, so the
session only ever receives explicit, idempotent-safe commands. While estopped ``pause_resume`` sends
``reset`` (the E-STOP clears, the arm holds: paused) and the next press ``resume``: clearing and restarting
are two deliberate presses; ``takeover_handback`` does nothing then and says why.

Only key-down (value 1) acts; auto-repeat (2) and key-up (0) are counted and ignored. Every press ends
in the log, the counters and ``status()["last_event"]``: nothing is dropped silently.

A missing, unplugged, unreadable or wrong device never raises out of this module: the thread retries every
``retry_s`` seconds and ``status()`` names the problem and its fix.
"""

from __future__ import annotations

import errno
import getpass
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..config.inputs import PedalConfig
from ..protocol.commands import CommandResult
from ..protocol.phases import Phase
from ..protocol.toggles import TOGGLES
from .device import DeviceOpener, EvdevPedalDevice, PedalDevice

if TYPE_CHECKING:
    from evdev import InputEvent

__all__ = ["FootPedal", "PedalDecision", "PedalState", "decide"]

log = logging.getLogger(__name__)

P = Phase
KEY_DOWN, KEY_UP, KEY_REPEAT = 1, 0, 2


class PedalState(StrEnum):
    DISABLED = "disabled"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    MISSING = "missing"
    PERMISSION_DENIED = "permission_denied"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PedalDecision:
    """What a press means now: a command to submit, or no command and the reason why."""

    command: str | None
    reason: str | None = None
    args: dict[str, Any] | None = None


_ESTOP_REASON = ("estop is active; clear it first with the pause/resume pedal or Clear E-STOP on the page "
                 "(the arm then holds; a second press resumes)")
_OVER = "the session is {phase}; the pedal has nothing to do"

def decide(action: str, phase: Phase | str) -> PedalDecision:
    """The explicit command a pedal toggle stands for in ``phase`` (pure; ``protocol.toggles`` is the spec)."""
    phase = Phase(phase)
    step = TOGGLES[action].step(phase)
    if step is not None:
        return PedalDecision(step.command, args=dict(step.args) or None)
    if phase is P.ESTOPPED:
        return PedalDecision(None, _ESTOP_REASON)
    if phase in (P.STOPPING, P.STOPPED, P.ERROR):
        return PedalDecision(None, _OVER.format(phase=phase.value))
    return PedalDecision(None, f"{action} does nothing while {phase.value}")


_FIX_MISSING = (
    "Plug the pedal in and check the path: `ls -l /dev/input/by-id/` lists the event nodes (a pedal "
    "often has several; use the one ending in -event-kbd) and --pedal.device_path selects it. In Docker "
    "pass the device with --device."
)
_FIX_UNPLUGGED = "Plug the pedal back in; it reconnects by itself."
_FIX_PERMISSION = (
    "Let the console's user read the device: `sudo usermod -aG input {user}` and log in again; or a "
    "udev rule in /etc/udev/rules.d/99-foot-pedal.rules such as "
    'SUBSYSTEM=="input", ATTRS{{idVendor}}=="VVVV", ATTRS{{idProduct}}=="PPPP", MODE="0660", GROUP="input" '
    "(ids from `udevadm info -a -n {path} | grep -m2 -E 'idVendor|idProduct'`; then `sudo udevadm control "
    "--reload && sudo udevadm trigger`); or for this boot only `sudo setfacl -m u:{user}:rw {path}`."
)
_FIX_NOT_EVDEV = (
    "The path must be an evdev event node (/dev/input/eventN or /dev/input/by-id/...-event-kbd); "
    "`python -m evdev.evtest` lists them."
)
_FIX_NO_EVDEV = (
    "Install evdev (Linux only): `pip install evdev`, or disable the pedal with --pedal.enabled=false."
)


class FootPedal:
    """Reads one pedal device on a daemon thread and submits the commands its toggles stand for.

    ``submit(name, source=...)`` must return a ``CommandResult`` (the integrator passes the session's
    ``submit`` through the lease); ``phase()`` returns the session's current phase. ``on_status`` is
    called with ``status()`` whenever the state changes or a press was handled (from the pedal thread).
    """

    def __init__(
        self,
        config: PedalConfig,
        submit: Callable[..., CommandResult],
        phase: Callable[[], Phase | str],
        *,
        opener: DeviceOpener | None = None,
        source: str = "pedal",
        on_status: Callable[[dict[str, Any]], object] | None = None,
        poll_s: float = 0.1,
    ) -> None:
        self.config = config
        self._submit = submit
        self._phase = phase
        self._opener = opener or EvdevPedalDevice.opener(grab=config.grab)
        self.source = source
        self._on_status = on_status
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._state = PedalState.DISABLED
        self._message = "pedal disabled (--pedal.enabled=false)"
        self._fix: str | None = None
        self._device_name: str | None = None
        self._last_event: dict[str, Any] | None = None
        self._counts = dict.fromkeys(
            (
                "presses",
                "submitted",
                "accepted",
                "rejected",
                "no_action",
                "submit_errors",
                "repeats_ignored",
                "releases",
                "unmapped",
                "connects",
                "disconnects",
                "open_failures",
            ),
            0,
        )
        self._actions: dict[int, str] = {}
        self._names: dict[int, str] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the reader thread (no-op when disabled); returns at once, never raises for device trouble."""
        if self._thread is not None:
            raise RuntimeError("pedal already started")
        if not self.config.enabled:
            self._set(PedalState.DISABLED, "pedal disabled (--pedal.enabled=false)", None)
            return
        try:
            from evdev import ecodes
        except ImportError:
            self._set(PedalState.ERROR, "the evdev package is not installed", _FIX_NO_EVDEV)
            return
        for name, action in self.config.codes().items():
            code = ecodes.ecodes.get(name)
            if code is None:  # only possible when the config was validated without evdev
                self._set(
                    PedalState.ERROR, f"{name} is not an evdev key name (--pedal.{action})", _FIX_NOT_EVDEV
                )
                return
            self._actions[code] = action
            self._names[code] = name
        self._stop.clear()
        self._set(PedalState.CONNECTING, f"opening {self.config.device_path}", None)
        self._thread = threading.Thread(target=self._run, name="foot-pedal", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread and release the device (within ``poll_s`` plus a running submit)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return  # never started (disabled, or evdev missing): keep that status
        if thread is not threading.current_thread():  # stop() may be called from on_status
            thread.join(timeout)
            if thread.is_alive():
                log.warning("pedal: reader thread did not stop within %.1f s", timeout)
        self._set(PedalState.DISABLED, "pedal stopped", None)

    # --------------------------------------------------------------------- status

    def status(self) -> dict[str, Any]:
        """JSON-ready status for the page: state, device_path, message, fix, last_event, counts."""
        with self._lock:
            return {
                "state": self._state.value,
                "device_path": self.config.device_path,
                "device": self._device_name,
                "message": self._message,
                "fix": self._fix,
                "last_event": None if self._last_event is None else dict(self._last_event),
                "counts": dict(self._counts),
                "codes": self.config.codes(),
                "retry_s": self.config.retry_s,
            }

    def _set(self, state: PedalState, message: str, fix: str | None, *, level: int = logging.INFO) -> None:
        with self._lock:
            changed = (state, message) != (self._state, self._message)
            self._state, self._message, self._fix = state, message, fix
        if changed:  # a retry that fails the same way is not logged again
            log.log(level, "pedal: %s%s", message, f" (fix: {fix})" if fix and fix not in message else "")
            self._notify()

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def _notify(self) -> None:
        if self._on_status is None:
            return
        try:
            self._on_status(self.status())
        except Exception:
            log.exception("pedal: status callback failed")

    # ----------------------------------------------------------------- the thread

    def _run(self) -> None:
        path = self.config.device_path
        while not self._stop.is_set():
            device = self._open(path)
            if device is not None:
                try:
                    self._read(device)
                except OSError as exc:
                    self._count("disconnects")
                    self._lost(device, exc)
                except Exception as exc:  # a bug must not kill the thread silently
                    log.exception("pedal: reader failed")
                    self._set(
                        PedalState.ERROR,
                        f"pedal reader failed: {exc}; retrying every {self.config.retry_s:g} s",
                        None,
                        level=logging.ERROR,
                    )
                finally:
                    device.close()
                    with self._lock:
                        self._device_name = None
            self._stop.wait(self.config.retry_s)

    def _open(self, path: str) -> PedalDevice | None:
        retry = f"; retrying every {self.config.retry_s:g} s"
        try:
            device = self._opener(path)
        except PermissionError:
            self._count("open_failures")
            self._set(
                PedalState.PERMISSION_DENIED,
                f"no permission to read {path} (user {_user()}){retry}",
                _FIX_PERMISSION.format(user=_user(), path=path),
                level=logging.WARNING,
            )
            return None
        except FileNotFoundError:
            self._count("open_failures")
            self._set(
                PedalState.MISSING, f"pedal not found at {path}{retry}", _FIX_MISSING, level=logging.WARNING
            )
            return None
        except OSError as exc:
            self._count("open_failures")
            if exc.errno == errno.ENODEV:
                self._set(
                    PedalState.MISSING,
                    f"pedal at {path} is gone (unplugged?){retry}",
                    _FIX_UNPLUGGED,
                    level=logging.WARNING,
                )
            else:
                self._set(
                    PedalState.ERROR,
                    f"cannot use {path} as a pedal: {exc.strerror or exc}{retry}",
                    _FIX_NOT_EVDEV,
                    level=logging.WARNING,
                )
            return None
        self._count("connects")
        name = device.describe()
        with self._lock:
            self._device_name = name
        notes = [note for note in (self._missing_codes(device), getattr(device, "grab_error", None)) if note]
        fix = "; ".join(notes) or None
        self._set(PedalState.CONNECTED, f"connected: {name}" + ("; " + fix if fix else ""), fix)
        return device

    def _missing_codes(self, device: PedalDevice) -> str | None:
        codes = device.key_codes()
        if codes is None:
            return None
        missing = [
            f"{self._names[code]} (--pedal.{action})"
            for code, action in self._actions.items()
            if code not in codes
        ]
        if not missing:
            return None
        return (
            f"this device does not report {', '.join(missing)}; a pedal often has several event nodes: try "
            "the one ending in -event-kbd, or press it and read status last_event for the code it sends"
        )

    def _lost(self, device: PedalDevice, exc: OSError) -> None:
        retry = f"; retrying every {self.config.retry_s:g} s"
        if self._stop.is_set():
            return
        if exc.errno == errno.ENODEV:
            self._set(
                PedalState.MISSING,
                f"pedal unplugged ({device.describe()}){retry}",
                _FIX_UNPLUGGED,
                level=logging.WARNING,
            )
        else:
            self._set(
                PedalState.ERROR,
                f"reading the pedal failed: {exc.strerror or exc}{retry}",
                "Check the cable and the kernel log (`dmesg | tail`); it reconnects by itself.",
                level=logging.WARNING,
            )

    def _read(self, device: PedalDevice) -> None:
        from evdev import ecodes

        while not self._stop.is_set():
            for event in device.read(self._poll_s):
                if event.type == ecodes.EV_KEY:
                    self._on_key(event)

    def _on_key(self, event: InputEvent) -> None:
        if event.value == KEY_REPEAT:
            self._count("repeats_ignored")
            return
        if event.value == KEY_UP:
            self._count("releases")
            return
        if event.value != KEY_DOWN:
            return
        self._count("presses")
        action = self._actions.get(event.code)
        key = self._names.get(event.code) or _code_name(event.code)
        record: dict[str, Any] = {
            "key": key,
            "code": event.code,
            "action": action,
            "command": None,
            "accepted": None,
            "detail": None,
            "phase": None,
            "at": time.time(),
        }
        if action is None:
            self._count("unmapped")
            record["detail"] = f"{key} is not mapped to a pedal action (codes: {self.config.codes()})"
            self._finish(record, logging.INFO)
            return
        try:
            phase = Phase(self._phase())
        except Exception as exc:
            self._count("submit_errors")
            record["detail"] = f"cannot read the session phase: {exc}"
            self._finish(record, logging.ERROR)
            return
        record["phase"] = phase.value
        decision = decide(action, phase)
        if decision.command is None:
            self._count("no_action")
            record["detail"] = decision.reason
            self._finish(record, logging.WARNING)
            return
        record["command"] = decision.command
        if decision.args:
            record["args"] = dict(decision.args)
        record["age_ms"] = round((time.time() - event.timestamp()) * 1000.0, 3)
        self._count("submitted")
        try:
            if decision.args:
                result = self._submit(decision.command, args=decision.args, source=self.source)
            else:
                result = self._submit(decision.command, source=self.source)
        except Exception as exc:
            log.exception("pedal: submit %s failed", decision.command)
            self._count("submit_errors")
            record["detail"] = f"{decision.command} failed: {exc}"
            self._finish(record, logging.ERROR)
            return
        record["accepted"] = bool(result.accepted)
        record["detail"] = result.detail
        record["phase"] = Phase(result.phase).value
        self._count("accepted" if result.accepted else "rejected")
        self._finish(record, logging.INFO if result.accepted else logging.WARNING)

    def _finish(self, record: dict[str, Any], level: int) -> None:
        with self._lock:
            self._last_event = record
        outcome = ("accepted" if record["accepted"] else "rejected") if record["command"] else "no command"
        log.log(
            level,
            "pedal: %s (%s) -> %s: %s%s",
            record["key"],
            record["action"] or "unmapped",
            record["command"] or "-",
            outcome,
            f": {record['detail']}" if record["detail"] else "",
        )
        self._notify()


def _code_name(code: int) -> str:
    try:
        from evdev import ecodes
    except ImportError:
        return str(code)
    names = ecodes.bytype[ecodes.EV_KEY].get(code)
    if names is None:
        return str(code)
    return names if isinstance(names, str) else "/".join(names)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "$USER"
