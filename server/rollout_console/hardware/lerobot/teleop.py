"""LeRobotTeleop: any LeRobot ``Teleoperator`` (leader arms, gamepads, ...) behind our protocol.

Connecting never prompts (see ``errors.no_prompts``): an uncalibrated leader raises a HardwareError
with the ``lerobot-calibrate`` command. A LeRobot leader cannot be moved by the console (LeRobot's
Teleoperator has no motor-control API), so it is not a ``DrivableLeader``: DAgger's takeover uses the
bumpless handover of the follower instead of aligning the leader.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ...errors import DeviceNotConnectedError, HardwareError
from ..protocols import FeatureSpec
from .errors import calibrate_command, no_prompts, translated

__all__ = ["LeRobotTeleop"]

log = logging.getLogger(__name__)


class LeRobotTeleop:
    """Teleoperator protocol around a LeRobot teleoperator (built by ``factory.make_lerobot_teleop``)."""

    def __init__(self, teleop: Any, device_type: str, options: Mapping[str, Any] | None = None) -> None:
        self.teleop = teleop
        self.device_type = device_type
        self.name = str(getattr(teleop, "name", device_type))
        self.id = str(getattr(teleop, "id", None) or device_type)
        self._options = dict(options or {})
        with translated(str(self), "reading its features"):
            self._action_features: dict[str, FeatureSpec] = dict(teleop.action_features)
        self._connected = False

    def __str__(self) -> str:
        return f"{self.device_type} {self.id}"

    @property
    def action_features(self) -> dict[str, FeatureSpec]:
        return dict(self._action_features)

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        label = str(self)
        hint = f"calibrate it first with `{calibrate_command('teleop', self.device_type, self._options)}`"
        try:
            with no_prompts(label, hint), translated(label, "connecting"):
                self.teleop.connect(calibrate=False)
            with translated(label, "checking its calibration"):
                calibrated = bool(getattr(self.teleop, "is_calibrated", True))
            if not calibrated:
                path = getattr(self.teleop, "calibration_fpath", None)
                raise HardwareError(f"{label}: not calibrated (calibration file {path}); {hint}")
        except BaseException:
            self._release()
            raise
        self._connected = True
        log.info("%s connected", self)

    def disconnect(self) -> None:
        self._connected = False
        self._release(raise_errors=True)

    def get_action(self) -> dict[str, float]:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self}: not connected")
        with translated(str(self), "reading the leader"):
            action = self.teleop.get_action()
        return {key: float(value) for key, value in action.items()}

    def _release(self, raise_errors: bool = False) -> None:
        if not bool(getattr(self.teleop, "is_connected", False)):
            return
        try:
            with translated(str(self), "disconnecting"):
                self.teleop.disconnect()
        except HardwareError as exc:
            log.warning("%s", exc)
            if raise_errors:
                raise
