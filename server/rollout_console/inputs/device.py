"""The seam between the pedal and the kernel: a tiny device interface, evdev for production, memory for tests.

``PedalDevice`` is what the pedal thread reads. ``EvdevPedalDevice`` wraps ``evdev.InputDevice`` (Linux);
``MemoryPedalDevice`` is fed real ``evdev.InputEvent`` objects from another thread (tests, benchmarks,
demos on machines without ``/dev/input``). Both signal an unplugged device the way the kernel does: an
``OSError`` with ``errno.ENODEV`` from ``read``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import select
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from evdev import InputEvent

__all__ = ["DeviceOpener", "EvdevPedalDevice", "MemoryPedalDevice", "MemoryPedalOpener", "PedalDevice"]


class PedalDevice(Protocol):
    """An opened input device. Used by one thread only (the pedal's)."""

    path: str

    def read(self, timeout: float) -> list[InputEvent]:
        """Events available now, waiting at most ``timeout`` seconds for the first one ([] if none came).

        Raises ``OSError`` (``errno.ENODEV`` when unplugged) when the device is gone.
        """
        ...

    def key_codes(self) -> frozenset[int] | None:
        """EV_KEY codes the device says it can send, or None when unknown."""
        ...

    def describe(self) -> str:
        """Human-readable identity (name, physical location) for the status line."""
        ...

    def close(self) -> None:
        """Release the device (and a grab); never raises."""
        ...


DeviceOpener = Callable[[str], PedalDevice]
"""Opens the device at a path; raises FileNotFoundError, PermissionError or OSError like ``os.open``."""


class EvdevPedalDevice:
    """A real evdev device. ``open`` optionally grabs it so a keyboard-type pedal types nowhere else."""

    def __init__(self, device: Any, *, grabbed: bool = False, grab_error: str | None = None) -> None:
        self._device = device
        self.path: str = str(getattr(device, "path", ""))
        self.grabbed = grabbed
        self.grab_error = grab_error

    @classmethod
    def open(cls, path: str, *, grab: bool = True) -> EvdevPedalDevice:
        """Open ``path``; a failed grab (another program holds the device) is reported, not fatal."""
        import evdev

        device = evdev.InputDevice(path)
        grabbed, grab_error = False, None
        if grab:
            try:
                device.grab()
                grabbed = True
            except OSError as exc:
                grab_error = (
                    f"could not grab the pedal ({exc.strerror or exc}); its keystrokes also reach other "
                    "programs; close the program that grabbed it (see `sudo fuser -v " + path + "`)"
                )
        return cls(device, grabbed=grabbed, grab_error=grab_error)

    @staticmethod
    def opener(*, grab: bool = True) -> DeviceOpener:
        return lambda path: EvdevPedalDevice.open(path, grab=grab)

    def read(self, timeout: float) -> list[InputEvent]:
        ready, _, _ = select.select([self._device.fd], [], [], max(0.0, timeout))
        if not ready:
            return []
        try:
            return list(self._device.read())
        except BlockingIOError:
            return []

    def key_codes(self) -> frozenset[int] | None:
        try:
            from evdev import ecodes

            return frozenset(self._device.capabilities().get(ecodes.EV_KEY, ()))
        except (OSError, ImportError):
            return None

    def describe(self) -> str:
        name = getattr(self._device, "name", "") or "unnamed device"
        phys = getattr(self._device, "phys", "")
        text = f"{name} ({phys})" if phys else name
        return text + ("" if self.grabbed else " [not grabbed]")

    def close(self) -> None:
        if self.grabbed:
            with contextlib.suppress(OSError):
                self._device.ungrab()
            self.grabbed = False
        with contextlib.suppress(OSError):
            self._device.close()


class MemoryPedalDevice:
    """An in-memory device fed from another thread with real ``evdev.InputEvent`` objects.

    ``push`` timestamps events with the wall clock like the kernel does; ``unplug`` makes the reader
    see ``OSError(ENODEV)`` after the events already queued, exactly as a pulled USB cable does.
    """

    def __init__(
        self,
        path: str = "/dev/input/memory-pedal",
        key_codes: Iterable[int] | None = None,
        name: str = "memory pedal",
    ) -> None:
        self.path = path
        self.name = name
        self._codes = None if key_codes is None else frozenset(key_codes)
        self._queue: queue.SimpleQueue[InputEvent | None] = queue.SimpleQueue()
        self.closed = threading.Event()
        self.pushed_at: dict[int, float] = {}
        """perf_counter() at push, by push sequence number (for latency measurements)."""
        self._seq = 0

    def push(self, code: int, value: int = 1, *, event_type: int | None = None) -> int:
        """Queue one event (value 1 down, 0 up, 2 repeat); returns its sequence number."""
        from evdev import InputEvent, ecodes

        now = time.time()
        sec, usec = int(now), int((now % 1) * 1_000_000)
        self._seq += 1
        self.pushed_at[self._seq] = time.perf_counter()
        self._queue.put(
            InputEvent(sec, usec, ecodes.EV_KEY if event_type is None else event_type, code, value)
        )
        return self._seq

    def press(self, code: int) -> None:
        """A complete physical press: key down, SYN_REPORT, key up, SYN_REPORT (what a pedal sends)."""
        from evdev import ecodes

        self.push(code, 1)
        self.push(ecodes.SYN_REPORT, 0, event_type=ecodes.EV_SYN)
        self.push(code, 0)
        self.push(ecodes.SYN_REPORT, 0, event_type=ecodes.EV_SYN)

    def unplug(self) -> None:
        self._queue.put(None)

    def read(self, timeout: float) -> list[InputEvent]:
        if self.closed.is_set():
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        try:
            first = self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return []
        events = [first]
        while True:  # drain what is already there, like one read() of the fd
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if None in events:
            cut = events.index(None)
            if cut == 0:
                raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
            for _ in events[cut:]:  # deliver what came before the unplug first
                self._queue.put(None)
            events = events[:cut]
        return [event for event in events if event is not None]

    def key_codes(self) -> frozenset[int] | None:
        return self._codes

    def describe(self) -> str:
        return self.name

    def close(self) -> None:
        self.closed.set()


class MemoryPedalOpener:
    """A ``DeviceOpener`` for tests: ``plug``/``unplug`` a memory device, or ``fail_with`` an error."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._device: MemoryPedalDevice | None = None
        self._error: OSError | None = None
        self.attempts = 0
        self.opened = threading.Event()

    def plug(self, device: MemoryPedalDevice) -> MemoryPedalDevice:
        with self._lock:
            self._device, self._error = device, None
        return device

    def unplug(self) -> None:
        """Pull the cable: the open device reports ENODEV and the path disappears."""
        with self._lock:
            device, self._device = self._device, None
        if device is not None:
            device.unplug()

    def fail_with(self, error: OSError) -> None:
        with self._lock:
            self._error = error

    def __call__(self, path: str) -> PedalDevice:
        with self._lock:
            self.attempts += 1
            if self._error is not None:
                raise self._error
            if self._device is None:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
            device = self._device
        device.path = path
        device.closed.clear()
        self.opened.set()
        return device
