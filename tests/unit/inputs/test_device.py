"""EvdevPedalDevice (the production path) without /dev/input; the opener seam."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from evdev import InputEvent, ecodes
from rollout_console.inputs import EvdevPedalDevice, MemoryPedalDevice, MemoryPedalOpener


class PipeBackedInputDevice:
    """Stands in for evdev.InputDevice: a real fd (a pipe) select() can wait on, events decoded by read()."""

    def __init__(self) -> None:
        self.fd, self._write = os.pipe()
        os.set_blocking(self.fd, False)
        self.path = "/dev/input/event-test"
        self.name = "PCsensor FootSwitch"
        self.phys = "usb-0000:00:14.0-1/input0"
        self.grab_calls = 0
        self.ungrab_calls = 0
        self.closed = False
        self.grab_error: OSError | None = None
        self.gone = False

    def send(self, *events: tuple[int, int, int]) -> None:
        for event in events:
            os.write(self._write, bytes([event[0], event[1], event[2]]))

    def read(self) -> Iterator[InputEvent]:
        if self.gone:
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        data = os.read(self.fd, 4096)  # raises BlockingIOError when empty, like evdev
        now = time.time()
        for i in range(0, len(data), 3):
            yield InputEvent(int(now), 0, data[i], data[i + 1], data[i + 2])

    def capabilities(self) -> dict[int, list[int]]:
        return {ecodes.EV_KEY: [ecodes.KEY_A, ecodes.KEY_B, ecodes.KEY_C]}

    def grab(self) -> None:
        self.grab_calls += 1
        if self.grab_error:
            raise self.grab_error

    def ungrab(self) -> None:
        self.ungrab_calls += 1

    def close(self) -> None:
        self.closed = True
        os.close(self.fd)
        os.close(self._write)


def test_open_missing_path_raises_file_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        EvdevPedalDevice.open("/dev/input/by-id/usb-Missing-event-kbd")


def test_open_a_regular_file_raises_enotty(tmp_path: Path) -> None:
    fake = tmp_path / "event0"
    fake.write_bytes(b"\0" * 64)
    with pytest.raises(OSError) as info:
        EvdevPedalDevice.open(str(fake))
    assert info.value.errno == errno.ENOTTY


def test_read_waits_at_most_timeout_then_returns_events(monkeypatch) -> None:
    import select as real_select
    from types import SimpleNamespace

    from rollout_console.inputs import device as device_module

    waits: list[float] = []

    def spy_select(rlist, wlist, xlist, timeout):  # noqa: ANN001, ANN202
        waits.append(timeout)
        return real_select.select(rlist, wlist, xlist, timeout)

    monkeypatch.setattr(device_module, "select", SimpleNamespace(select=spy_select))
    raw = PipeBackedInputDevice()
    device = EvdevPedalDevice(raw, grabbed=True)
    started = time.monotonic()
    assert device.read(0.05) == []
    assert time.monotonic() - started >= 0.04  # it did wait for an event ...
    assert waits == [0.05]  # ... for at most the timeout: one select bounded by it (the kernel's contract)
    raw.send((ecodes.EV_KEY, ecodes.KEY_A, 1), (ecodes.EV_KEY, ecodes.KEY_A, 0))
    events = device.read(1.0)
    assert [(e.type, e.code, e.value) for e in events] == [
        (ecodes.EV_KEY, ecodes.KEY_A, 1),
        (ecodes.EV_KEY, ecodes.KEY_A, 0),
    ]
    assert device.key_codes() == frozenset({ecodes.KEY_A, ecodes.KEY_B, ecodes.KEY_C})
    assert device.describe() == "PCsensor FootSwitch (usb-0000:00:14.0-1/input0)"
    device.close()
    assert raw.ungrab_calls == 1 and raw.closed


def test_read_reports_an_unplugged_device_as_enodev() -> None:
    raw = PipeBackedInputDevice()
    device = EvdevPedalDevice(raw)
    raw.send((ecodes.EV_SYN, 0, 0))  # the fd turns readable when the device goes away
    raw.gone = True
    with pytest.raises(OSError) as info:
        device.read(1.0)
    assert info.value.errno == errno.ENODEV
    device.close()
    assert raw.ungrab_calls == 0  # never grabbed: nothing to release


def test_not_grabbed_device_says_so() -> None:
    raw = PipeBackedInputDevice()
    device = EvdevPedalDevice(raw, grabbed=False, grab_error="could not grab")
    assert device.describe().endswith("[not grabbed]")
    device.close()


def test_memory_opener_plug_unplug_and_errors() -> None:
    opener = MemoryPedalOpener()
    with pytest.raises(FileNotFoundError):
        opener("/dev/input/x")
    device = opener.plug(MemoryPedalDevice())
    assert opener("/dev/input/x") is device and device.path == "/dev/input/x"
    opener.fail_with(PermissionError(errno.EACCES, "denied"))
    with pytest.raises(PermissionError):
        opener("/dev/input/x")
    assert opener.attempts == 3


def test_memory_device_delivers_events_queued_before_an_unplug() -> None:
    device = MemoryPedalDevice()
    device.push(ecodes.KEY_A, 1)
    device.push(ecodes.KEY_A, 0)
    device.unplug()
    assert [e.value for e in device.read(0.1)] == [1, 0]
    with pytest.raises(OSError):
        device.read(0.1)
