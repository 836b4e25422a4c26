"""LeRobotRobot: any LeRobot ``Robot`` behind our Robot protocol.

Cameras. A robot that keeps its cameras in ``robot.cameras`` under the names of its image features
(every LeRobot arm does) has them taken over at construction: the adapter connects each camera, reads
it in a thread of its own (``LeRobotCameraSource``) and merges the newest frames into the observation,
while the robot itself only reads its motors. So a slow or frozen camera shows up as a growing frame
age, which pauses the policy, instead of LeRobot's ``read_latest`` raising inside ``get_observation``
and failing the tick. Image features the robot produces some other way (sub-robots, SDK streams) come
from its observation and are published through an ``ObservedCameraSource``.

Calibration. ``connect`` never lets LeRobot prompt: it connects with ``calibrate=False`` under
``no_prompts`` and, when the robot then reports itself uncalibrated, disconnects and raises a
HardwareError that gives the ``lerobot-calibrate`` command to run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...errors import DeviceNotConnectedError, HardwareError
from ..protocols import CameraSource, FeatureSpec
from .cameras import LeRobotCameraSource, ObservedCameraSource
from .errors import calibrate_command, no_prompts, translated

__all__ = ["LeRobotRobot"]

log = logging.getLogger(__name__)

_FIRST_FRAME_TIMEOUT_S = 10.0


def _camera_features(features: Mapping[str, Any]) -> dict[str, tuple[int, int, int]]:
    shapes = {k: v for k, v in features.items() if isinstance(v, tuple) and len(v) == 3}
    return {k: (int(v[0]), int(v[1]), int(v[2])) for k, v in shapes.items()}


def _is_camera(obj: Any) -> bool:
    return callable(getattr(obj, "async_read", None)) and callable(getattr(obj, "connect", None))


class LeRobotRobot:
    """Robot protocol around a LeRobot robot instance (built by ``factory.make_lerobot_robot``)."""

    def __init__(self, robot: Any, device_type: str, options: Mapping[str, Any] | None = None,
                 first_frame_timeout_s: float = _FIRST_FRAME_TIMEOUT_S) -> None:
        self.robot = robot
        self.device_type = device_type
        self.name = str(getattr(robot, "name", device_type))
        self.id = str(getattr(robot, "id", None) or device_type)
        self._options = dict(options or {})
        self._first_frame_timeout_s = first_frame_timeout_s
        label = str(self)
        with translated(label, "reading its features"):
            # snapshot now: some robots derive these from robot.cameras, which is taken over below
            self._observation_features: dict[str, FeatureSpec] = dict(robot.observation_features)
            self._action_features: dict[str, FeatureSpec] = dict(robot.action_features)
        image_shapes = _camera_features(self._observation_features)
        owned = getattr(robot, "cameras", None)
        self._owned: dict[str, LeRobotCameraSource] = {}
        if (isinstance(owned, dict) and owned and set(owned) <= set(image_shapes)
                and all(map(_is_camera, owned.values()))):
            self._owned = {name: LeRobotCameraSource(name, camera) for name, camera in owned.items()}
            robot.cameras = {}  # the robot no longer connects, reads or releases them: we do
        self._observed = {name: ObservedCameraSource(name, shape, fps=30.0)
                          for name, shape in image_shapes.items() if name not in self._owned}
        self._cameras: dict[str, CameraSource] = {}
        for name in image_shapes:  # robot order
            self._cameras[name] = self._owned[name] if name in self._owned else self._observed[name]
        self._connected = False

    def __str__(self) -> str:
        return f"{self.device_type} {self.id}"

    # ------------------------------------------------------------------ protocol

    @property
    def observation_features(self) -> dict[str, FeatureSpec]:
        return dict(self._observation_features)

    @property
    def action_features(self) -> dict[str, FeatureSpec]:
        return dict(self._action_features)

    @property
    def cameras(self) -> Mapping[str, CameraSource]:
        return self._cameras

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        label = str(self)
        hint = f"calibrate it first with `{calibrate_command('robot', self.device_type, self._options)}`"
        try:
            with no_prompts(label, hint), translated(label, "connecting"):
                self.robot.connect(calibrate=False)
            with translated(label, "checking its calibration"):
                calibrated = bool(getattr(self.robot, "is_calibrated", True))
            if not calibrated:
                path = getattr(self.robot, "calibration_fpath", None)
                state = (f"the motors do not match the calibration file {path}" if path is not None and
                         getattr(self.robot, "calibration", None) else f"no calibration file ({path})")
                raise HardwareError(f"{label}: not calibrated: {state}; {hint} (the console never "
                                    "calibrates: it would move the arm and ask questions on a terminal)")
            self._start_cameras()
        except BaseException:
            self._release()
            raise
        self._connected = True
        log.info("%s connected (%d cameras)", self, len(self._cameras))

    def disconnect(self) -> None:
        self._connected = False
        self._release(raise_errors=True)

    def get_observation(self) -> dict[str, Any]:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self}: not connected")
        with translated(str(self), "reading the robot"):
            raw = self.robot.get_observation()
        now = time.monotonic()
        observation: dict[str, Any] = {}
        for key, value in raw.items():
            if key in self._observed:
                self._observed[key].push(value, now)
                observation[key] = value
            else:
                observation[key] = float(value) if self._observation_features.get(key) is float else value
        for name, source in self._owned.items():
            frame = source.latest()
            if frame is None:  # no frame yet: the stale-camera check pauses the policy
                observation[name] = np.zeros((source.height, source.width, 3), np.uint8)
            else:
                observation[name] = frame.image
        return observation

    def send_action(self, action: dict[str, float]) -> dict[str, float]:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self}: not connected")
        unknown = set(action) - set(self._action_features)
        if unknown:
            raise HardwareError(f"{self}: unknown action keys {sorted(unknown)}")
        with translated(str(self), "sending the action"):
            sent = self.robot.send_action(dict(action))
        result = {key: float(value) for key, value in sent.items() if key in self._action_features}
        # a robot that returns only part of the action (or nothing) sent the rest unchanged
        return {key: result.get(key, float(action[key])) for key in action}

    # ------------------------------------------------------------------ helpers

    def _start_cameras(self) -> None:
        started: list[LeRobotCameraSource] = []
        for name, source in self._owned.items():
            with translated(str(self), f"connecting camera {name}"):
                source.start()
            started.append(source)
        deadline = time.monotonic() + self._first_frame_timeout_s
        for source in started:
            if source.wait_newer(0, max(0.0, deadline - time.monotonic())) is None:
                error = source.stats().last_error
                raise HardwareError(f"{self}: camera {source.name} delivered no frame within "
                                    f"{self._first_frame_timeout_s:g} s" + (f" ({error})" if error else ""))

    def _release(self, raise_errors: bool = False) -> None:
        errors: list[str] = []
        for source in self._owned.values():
            try:
                source.stop()
            except Exception as exc:
                errors.append(f"camera {source.name}: {exc}")
        for observed in self._observed.values():
            observed.close()
        if bool(getattr(self.robot, "is_connected", False)):
            try:
                with translated(str(self), "disconnecting"):
                    self.robot.disconnect()
            except HardwareError as exc:
                errors.append(str(exc))
        if errors:
            log.warning("%s: release: %s", self, "; ".join(errors))
            if raise_errors:
                raise HardwareError(f"{self}: releasing failed: {'; '.join(errors)}")
