"""EncoderOpener: one normal-priority thread that opens the camera workers' next encoders.

Why a thread of its own: opening an SVT-AV1 encoder holds the GIL for the whole ``avcodec_open2``
call. The camera workers run at a raised nice value (so the control thread wins the CPU), and a worker
opening a codec while ~140 encoder threads of the same nice value compete for 2 cores took 50-70 ms,
holding the GIL all along: the control loop then ran 20-35 ms late. The opener keeps the normal
priority of the thread that created it, so an open takes ~5-15 ms; it starts each open just after a
control tick (``gate``), one at a time, so the GIL hold falls in the idle part of the period.

The codec's threads would inherit the opener's normal priority, so right after an open the opener
lowers the new threads to the workers' nice value. They are told apart from other new threads by name:
the opener names itself (Linux ``prctl``) and threads inherit their creator's name.
"""

from __future__ import annotations

import ctypes
import logging
import os
import queue
import threading
from collections.abc import Callable

from .video import VideoFileEncoder

__all__ = ["EncoderOpener", "TickGate", "lower_new_threads"]

log = logging.getLogger(__name__)

TickGate = Callable[[], object]
"""Blocks until the control thread has just finished a tick (returns at once when no loop runs)."""
Make = Callable[[], VideoFileEncoder]
Deliver = Callable[[VideoFileEncoder | None, BaseException | None], bool]
"""Receives (encoder, None) or (None, error); returns False if nobody wants the encoder any more."""

THREAD_NAME = "rc-enc-opener"
_PR_SET_NAME = 15


def _name_this_thread(name: str) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        return False


def _threads() -> set[int]:
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()


def _thread_name(tid: int) -> str | None:
    try:
        with open(f"/proc/self/task/{tid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return None


def lower_new_threads(before: set[int], name: str | None, nice: int) -> int:
    """Raise the nice value of threads that appeared since ``before`` (and carry ``name``, if given)."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return 0
    changed = 0
    for tid in _threads() - before:
        if name is not None and _thread_name(tid) != name:
            continue
        try:
            os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), nice))
            changed += 1
        except OSError:  # ended meanwhile
            continue
    return changed


class EncoderOpener:
    """Opens encoders on request, one at a time, each right after a control tick (see module docstring)."""

    def __init__(self, nice: int) -> None:
        self.nice = nice
        self.gate: TickGate | None = None
        self.opened = 0
        self._queue: queue.SimpleQueue[tuple[Make, Deliver] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="recorder-opener", daemon=True)
        self._thread.start()

    def request(self, make: Make, deliver: Deliver) -> None:
        """Open ``make()`` soon on the opener thread and hand the result to ``deliver`` (never blocks)."""
        self._queue.put((make, deliver))

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        named = _name_this_thread(THREAD_NAME)
        while True:
            item = self._queue.get()
            if item is None:
                return
            make, deliver = item
            encoder: VideoFileEncoder | None = None
            error: BaseException | None = None
            try:
                gate = self.gate
                if gate is not None:
                    gate()  # the control thread just finished a tick: the GIL is ours until its next one
                before = _threads()
                encoder = make()
                lower_new_threads(before, THREAD_NAME if named else None, self.nice)
                self.opened += 1
            except Exception as exc:
                error = exc
            try:
                taken = deliver(encoder, error)
            except Exception:
                log.exception("recorder: handing over an encoder failed")
                taken = False
            if encoder is not None and not taken:
                encoder.abort()
