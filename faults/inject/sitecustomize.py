"""Fault injection for a console started by the fault suite (never imported by the console itself).

Python imports ``sitecustomize`` at start when this directory is on PYTHONPATH, which the suite does
only for the child it attacks. Each ``ROLLOUT_FAULT_*`` variable patches one library boundary:

* ``ROLLOUT_FAULT_ENCODER_AFTER=N`` (with ``ROLLOUT_FAULT_ENCODER_FAIL_NTH=K``): the K-th video encoder
  the console uses (every one when K is unset) raises after its N-th frame (a codec failure);
* ``ROLLOUT_FAULT_ENOSPC_AFTER_SAVES=N``: from the (N+1)-th episode on, writing the episode's data
  file raises ENOSPC (a full disk, where a tmpfs cannot be mounted);
* ``ROLLOUT_FAULT_CAMERA_FREEZE_AFTER_S=T``: the sim's ``front`` camera stops delivering frames T seconds
  after the robot connects (a stale camera); the wall time of the freeze goes to ``ROLLOUT_FAULT_MARK_FILE``.
"""

from __future__ import annotations

import errno
import os
import threading
import time


def _encoder_failure(after: int, nth: int | None) -> None:
    from rollout_console.recording import video

    original = video.VideoFileEncoder.encode
    counts: dict[int, int] = {}
    order: dict[int, int] = {}
    lock = threading.Lock()

    def encode(self, rgb):  # type: ignore[no-untyped-def]
        with lock:
            order.setdefault(id(self), len(order) + 1)
            counts[id(self)] = counts.get(id(self), 0) + 1
            fail = (nth is None or order[id(self)] == nth) and counts[id(self)] > after
        if fail:
            raise RuntimeError("injected encoder failure: the video codec stopped accepting frames")
        return original(self, rgb)

    video.VideoFileEncoder.encode = encode  # type: ignore[method-assign]


def _enospc(after_saves: int) -> None:
    from rollout_console.recording import writer

    original = writer.DatasetWriter.write_episode
    lock = threading.Lock()
    done = [0]

    def write_episode(self, data):  # type: ignore[no-untyped-def]
        with lock:
            done[0] += 1
            if done[0] > after_saves and not os.path.exists(os.environ.get("ROLLOUT_FAULT_SPACE_FREED", "/nonexistent")):
                raise OSError(errno.ENOSPC, "No space left on device (injected)")
        return original(self, data)

    writer.DatasetWriter.write_episode = write_episode  # type: ignore[method-assign]


def _camera_freeze(after_s: float) -> None:
    from rollout_console.hardware.sim import robot

    original = robot.SimRobot.connect

    def connect(self):  # type: ignore[no-untyped-def]
        original(self)
        camera = self.cameras.get("front")
        if camera is not None:
            def freeze() -> None:
                camera.stop()
                mark = os.environ.get("ROLLOUT_FAULT_MARK_FILE")
                if mark:
                    with open(mark, "w") as handle:
                        handle.write(repr(time.time()))

            timer = threading.Timer(after_s, freeze)
            timer.daemon = True
            timer.start()

    robot.SimRobot.connect = connect  # type: ignore[method-assign]


def _install() -> None:
    env = os.environ
    if "ROLLOUT_FAULT_ENCODER_AFTER" in env:
        nth = env.get("ROLLOUT_FAULT_ENCODER_FAIL_NTH")
        _encoder_failure(int(env["ROLLOUT_FAULT_ENCODER_AFTER"]), int(nth) if nth else None)
    if "ROLLOUT_FAULT_ENOSPC_AFTER_SAVES" in env:
        _enospc(int(env["ROLLOUT_FAULT_ENOSPC_AFTER_SAVES"]))
    if "ROLLOUT_FAULT_CAMERA_FREEZE_AFTER_S" in env:
        _camera_freeze(float(env["ROLLOUT_FAULT_CAMERA_FREEZE_AFTER_S"]))


if any(key.startswith("ROLLOUT_FAULT_") for key in os.environ):
    _install()
