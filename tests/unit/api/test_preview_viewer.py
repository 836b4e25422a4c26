"""A preview viewer's slot (api/preview.py): the newest packet only, the window of frames in flight for a
client that acknowledges, acknowledgements that cover earlier frames, the query parameters, and the send
rate over its window (explicit clocks, no sleeping)."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest
from rollout_console.api.preview import (
    ACK_WINDOW,
    HEADER,
    MAGIC,
    RATE_WINDOW_S,
    SendRate,
    Viewer,
    parse_ack,
    parse_scale,
)


def _packet(seq: int, size: int = 100) -> bytes:
    return HEADER.pack(MAGIC, seq, 0.0) + bytes(size)


def _in_own_loop(check) -> None:
    """Run an async check in a fresh event loop on its own thread: in the whole suite an earlier test may
    leave the main thread's loop state behind ("Runner.run() cannot be called from a running event loop"
    failed these three in a fresh-clone run), and a Viewer needs only a loop, not pytest-asyncio's."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, check()).result(timeout=60)


async def _taken(viewer: Viewer) -> bytes | None:
    """The packet the sender would take now, or None when it would wait."""
    try:
        return await asyncio.wait_for(viewer.next_packet(), timeout=0.05)
    except TimeoutError:
        return None


def test_an_acknowledging_viewer_has_at_most_the_window_in_flight_and_gets_the_newest() -> None:
    _in_own_loop(_an_acknowledging_viewer_has_at_most_the_window_in_flight_and_gets_the_newest)


async def _an_acknowledging_viewer_has_at_most_the_window_in_flight_and_gets_the_newest() -> None:
    viewer = Viewer(acknowledges=True)
    for seq in range(ACK_WINDOW):
        viewer.offer(_packet(seq))
        packet = await _taken(viewer)
        assert packet is not None and HEADER.unpack_from(packet)[1] == seq
        viewer.record_sent(packet)
    assert viewer.in_flight == ACK_WINDOW
    for seq in range(ACK_WINDOW, ACK_WINDOW + 5):  # the link is full: newer packets replace the waiting one
        viewer.offer(_packet(seq))
    assert await _taken(viewer) is None and viewer.skipped == 4
    viewer.acknowledge(0)  # one frame arrived: room for one, the newest
    packet = await _taken(viewer)
    assert packet is not None and HEADER.unpack_from(packet)[1] == ACK_WINDOW + 4


def test_an_acknowledgement_covers_the_frames_sent_before_it() -> None:
    _in_own_loop(_an_acknowledgement_covers_the_frames_sent_before_it)


async def _an_acknowledgement_covers_the_frames_sent_before_it() -> None:
    viewer = Viewer(acknowledges=True)
    for seq in (10, 11, 12):
        viewer.record_sent(_packet(seq))
    viewer.acknowledge(99)  # never sent: nothing released
    assert viewer.in_flight == 3 and viewer.acks == 1
    viewer.acknowledge(12)  # 10 and 11 were lost to the client's own bookkeeping: released too
    assert viewer.in_flight == 0
    assert viewer.stats()["ack_ms"] is not None and viewer.stats()["acknowledged"] is True


def test_a_viewer_that_does_not_acknowledge_is_never_held_back() -> None:
    _in_own_loop(_a_viewer_that_does_not_acknowledge_is_never_held_back)


async def _a_viewer_that_does_not_acknowledge_is_never_held_back() -> None:
    viewer = Viewer()
    for seq in range(10 * ACK_WINDOW):
        viewer.offer(_packet(seq))
        packet = await _taken(viewer)
        assert packet is not None
        viewer.record_sent(packet)
    assert viewer.stats()["acknowledged"] is False and viewer.stats()["ack_ms"] is None
    assert viewer.in_flight <= 4 * ACK_WINDOW  # what it remembers for round trips stays bounded


def test_send_rate_over_its_window() -> None:
    rate = SendRate()
    start = rate.started
    for i in range(10):  # 10 packets of 1000 bytes over the first second
        rate.add(1000, now=start + i * 0.1)
    assert rate.rates(now=start + 1.0) == pytest.approx((10_000.0, 10.0))
    assert rate.rates(now=start + RATE_WINDOW_S + 2.0) == (0.0, 0.0)  # nothing in the last window
    assert rate.bytes == 10_000 and rate.count == 10


@pytest.mark.parametrize(("raw", "scale"), [(None, 1.0), ("", 1.0), ("1", 1.0), ("0.5", 0.5), ("0.25", 0.25),
                                            ("1.0", 1.0)])
def test_scale_values(raw: str | None, scale: float) -> None:
    assert parse_scale(raw) == scale


@pytest.mark.parametrize("raw", ["0.3", "2", "0", "nan", "inf", "half", "-1"])
def test_bad_scales_say_what_is_allowed(raw: str) -> None:
    with pytest.raises(ValueError, match=r"scale must be one of 1, 0.5, 0.25"):
        parse_scale(raw)


def test_ack_values() -> None:
    assert [parse_ack(v) for v in (None, "", "0", "false", "1", "true")] == [False] * 4 + [True] * 2
    with pytest.raises(ValueError, match="ack must be 1, true, 0 or false"):
        parse_ack("yes")
