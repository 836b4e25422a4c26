"""FootPedal: real evdev.InputEvent objects through a memory device, on the pedal's own thread."""

from __future__ import annotations

import errno
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from evdev import InputEvent, ecodes
from rollout_console.config.inputs import PedalConfig
from rollout_console.inputs import FootPedal, MemoryPedalDevice, MemoryPedalOpener, PedalState, decide
from rollout_console.protocol.commands import CommandOutcome, CommandResult
from rollout_console.protocol.phases import Phase

P = Phase
KEY_A, KEY_B, KEY_C = ecodes.KEY_A, ecodes.KEY_B, ecodes.KEY_C


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)


class FakeSession:
    """Explicit commands only, like Session.submit: a transition table, rejections with a reason."""

    TABLE: ClassVar[dict[tuple[Phase, str], Phase]] = {
        (P.AUTONOMOUS, "pause"): P.PAUSED,
        (P.PAUSED, "resume"): P.AUTONOMOUS,
        (P.ESTOPPED, "reset"): P.PAUSED,  # what the real session does: reset clears an estop, it then holds
        (P.PAUSED, "takeover"): P.CORRECTING,
        (P.CORRECTING, "handback"): P.PAUSED,
        (P.AWAITING_OUTCOME, "save"): P.RESETTING,  # episodic: the outcome is given, the next reset begins
    }

    def __init__(self, phase: Phase = P.AUTONOMOUS) -> None:
        self.phase = phase
        self.calls: list[tuple[str, str]] = []
        self.args: list[dict | None] = []
        self.called = threading.Event()
        self.fail: Exception | None = None

    def submit(self, name: str, args: dict | None = None, source: str = "api") -> CommandResult:
        self.calls.append((name, source))
        self.args.append(args)
        self.called.set()
        if self.fail is not None:
            raise self.fail
        if name == "upload":
            return CommandResult(True, self.phase, "upload queued")
        target = self.TABLE.get((self.phase, name))
        if target is None:
            return CommandResult(False, self.phase, f"cannot {name} while {self.phase.value}",
                                 CommandOutcome.INVALID_NOW)
        self.phase = target
        return CommandResult(True, self.phase)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def session() -> FakeSession:
    return FakeSession()


@pytest.fixture
def opener() -> MemoryPedalOpener:
    return MemoryPedalOpener()


@pytest.fixture
def make_pedal(session: FakeSession, opener: MemoryPedalOpener) -> Iterator[Callable[..., FootPedal]]:
    pedals: list[FootPedal] = []

    def make(**overrides: object) -> FootPedal:
        config = PedalConfig.model_validate({"enabled": True, "retry_s": 0.05, **overrides})
        pedal = FootPedal(config, session.submit, lambda: session.phase, opener=opener, poll_s=0.02)
        pedals.append(pedal)
        return pedal

    yield make
    for pedal in pedals:
        pedal.stop()


def connected(pedal: FootPedal) -> bool:
    return pedal.status()["state"] == "connected"


def press_and_wait(pedal: FootPedal, device: MemoryPedalDevice, code: int) -> dict:
    before = pedal.status()["counts"]["presses"]
    device.press(code)
    wait_until(
        lambda: (
            pedal.status()["counts"]["presses"] == before + 1
            and pedal.status()["last_event"] is not None
            and _settled(pedal)
        )
    )
    return pedal.status()["last_event"]


def _settled(pedal: FootPedal) -> bool:
    counts = pedal.status()["counts"]
    handled = (
        counts["accepted"]
        + counts["rejected"]
        + counts["no_action"]
        + counts["submit_errors"]
        + counts["unmapped"]
    )
    return handled == counts["presses"]


# ----------------------------------------------------------------------------- the toggle table


@pytest.mark.parametrize(
    ("action", "phase", "command"),
    [
        ("pause_resume", P.AUTONOMOUS, "pause"),
        ("pause_resume", P.STARTING, "pause"),
        ("pause_resume", P.CORRECTING, "pause"),
        ("pause_resume", P.PAUSED, "resume"),
        ("takeover_handback", P.PAUSED, "takeover"),
        ("takeover_handback", P.CORRECTING, "handback"),
        ("takeover_handback", P.AUTONOMOUS, "takeover"),
        ("upload", P.AUTONOMOUS, "upload"),
        ("upload", P.PAUSED, "upload"),
        ("upload", P.STOPPED, "upload"),
        ("upload", P.ESTOPPED, "upload"),
    ],
)
def test_decide_maps_toggles_to_explicit_commands(action: str, phase: Phase, command: str) -> None:
    decision = decide(action, phase)
    assert decision.command == command
    assert decision.reason is None


def test_decide_clears_an_estop_only_to_paused_and_takeover_says_so() -> None:
    assert decide("pause_resume", P.ESTOPPED).command == "reset"  # the E-STOP clears; the arm holds
    assert decide("pause_resume", P.PAUSED).command == "resume"  # restarting is a second press
    decision = decide("takeover_handback", P.ESTOPPED)
    assert decision.command is None
    assert "clear it first" in decision.reason


@pytest.mark.parametrize("phase", [P.STOPPING, P.STOPPED, P.ERROR])
def test_decide_has_nothing_to_do_once_the_session_ends(phase: Phase) -> None:
    decision = decide("pause_resume", phase)
    assert decision.command is None and phase.value in decision.reason


def test_decide_accepts_phase_strings_and_explains_a_useless_press() -> None:
    assert decide("pause_resume", "autonomous").command == "pause"
    decision = decide("takeover_handback", P.STARTING)
    assert decision.command is None and decision.reason == "takeover_handback does nothing while starting"


# ------------------------------------------------------------------------------ on the thread


def test_every_mapping_through_the_thread(
    make_pedal, session: FakeSession, opener: MemoryPedalOpener
) -> None:
    device = opener.plug(MemoryPedalDevice(key_codes=[KEY_A, KEY_B, KEY_C]))
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: connected(pedal))

    assert press_and_wait(pedal, device, KEY_A)["command"] == "pause"  # autonomous -> paused
    assert session.phase is P.PAUSED
    assert press_and_wait(pedal, device, KEY_B)["command"] == "takeover"  # paused -> correcting
    assert session.phase is P.CORRECTING
    assert press_and_wait(pedal, device, KEY_B)["command"] == "handback"  # correcting -> paused
    assert session.phase is P.PAUSED
    assert press_and_wait(pedal, device, KEY_A)["command"] == "resume"  # paused -> autonomous
    assert session.phase is P.AUTONOMOUS
    event = press_and_wait(pedal, device, KEY_C)
    assert event["command"] == "upload" and event["accepted"] and event["detail"] == "upload queued"

    assert session.calls == [
        ("pause", "pedal"),
        ("takeover", "pedal"),
        ("handback", "pedal"),
        ("resume", "pedal"),
        ("upload", "pedal"),
    ]
    # the last key-up may still be on its way to the pedal thread when the last press's result is back
    deadline = time.monotonic() + 30
    while pedal.status()["counts"]["releases"] < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    counts = pedal.status()["counts"]
    assert counts["presses"] == 5 and counts["submitted"] == 5 and counts["accepted"] == 5
    assert counts["releases"] == 5  # the key-ups were seen and ignored


def test_custom_codes_are_honoured(make_pedal, session: FakeSession, opener: MemoryPedalOpener) -> None:
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal(pause_resume="KEY_SPACE", takeover_handback="BTN_0", upload=None)
    pedal.start()
    wait_until(lambda: connected(pedal))
    press_and_wait(pedal, device, ecodes.KEY_SPACE)
    press_and_wait(pedal, device, ecodes.BTN_0)
    last = press_and_wait(pedal, device, KEY_A)  # the default code means nothing now
    assert session.names() == ["pause", "takeover"]
    assert last["action"] is None and "not mapped" in last["detail"]
    assert pedal.status()["counts"]["unmapped"] == 1


def test_repeats_ups_and_other_event_types_are_ignored(make_pedal, session, opener) -> None:
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: connected(pedal))
    device.push(4, KEY_A, event_type=ecodes.EV_MSC)  # MSC_SCAN precedes keys on USB keyboards
    device.push(KEY_A, 1)
    for _ in range(20):  # the operator keeps the pedal down: auto-repeat
        device.push(KEY_A, 2)
    device.push(KEY_A, 0)
    device.push(ecodes.SYN_REPORT, 0, event_type=ecodes.EV_SYN)
    wait_until(lambda: pedal.status()["counts"]["releases"] == 1)
    assert session.names() == ["pause"]
    counts = pedal.status()["counts"]
    assert counts["repeats_ignored"] == 20 and counts["presses"] == 1 and counts["submitted"] == 1


def test_pedal_in_estop_clears_it_in_one_press_and_resumes_only_in_a_second(make_pedal, session, opener) -> None:
    session.phase = P.ESTOPPED
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: connected(pedal))
    for _ in range(2):  # take over / hand back means nothing while estopped, and says so
        event = press_and_wait(pedal, device, KEY_B)
        assert event["command"] is None and event["accepted"] is None
        assert "clear it first" in event["detail"] and event["phase"] == "estopped"
    assert session.calls == [] and pedal.status()["counts"]["no_action"] == 2
    cleared = press_and_wait(pedal, device, KEY_A)
    assert (cleared["command"], cleared["accepted"], cleared["phase"]) == ("reset", True, "paused")
    assert session.phase is P.PAUSED, "cleared: the arm holds, the policy does not run"
    resumed = press_and_wait(pedal, device, KEY_A)
    assert (resumed["command"], resumed["phase"]) == ("resume", "autonomous")
    assert session.names() == ["reset", "resume"]


def test_rejection_is_counted_and_reported(make_pedal, session, opener) -> None:
    session.phase = P.AUTONOMOUS
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: connected(pedal))
    event = press_and_wait(pedal, device, KEY_B)  # takeover while autonomous: this session refuses
    assert session.names() == ["takeover"]
    assert event["accepted"] is False and event["detail"] == "cannot takeover while autonomous"
    assert pedal.status()["counts"]["rejected"] == 1


def test_a_failing_submit_is_counted_and_the_thread_survives(make_pedal, session, opener, caplog) -> None:
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: connected(pedal))
    session.fail = RuntimeError("lease refused")
    with caplog.at_level(logging.ERROR, logger="rollout_console.inputs.pedal"):
        event = press_and_wait(pedal, device, KEY_A)
    assert "lease refused" in event["detail"] and pedal.status()["counts"]["submit_errors"] == 1
    assert any("submit pause failed" in record.getMessage() for record in caplog.records)
    session.fail = None
    assert press_and_wait(pedal, device, KEY_A)["accepted"] is True
    assert pedal.running


def test_every_press_is_logged(make_pedal, session, opener, caplog) -> None:
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal()
    with caplog.at_level(logging.INFO, logger="rollout_console.inputs.pedal"):
        pedal.start()
        wait_until(lambda: connected(pedal))
        press_and_wait(pedal, device, KEY_A)
        session.phase = P.ESTOPPED
        press_and_wait(pedal, device, KEY_B)
    messages = [record.getMessage() for record in caplog.records]
    assert any("KEY_A (pause_resume) -> pause: accepted" in m for m in messages)
    assert any("KEY_B (takeover_handback) -> -: no command: estop is active" in m for m in messages)


def test_last_event_carries_timing_and_phase(make_pedal, session, opener) -> None:
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: connected(pedal))
    before = time.time()
    event = press_and_wait(pedal, device, KEY_A)
    after = time.time()
    assert event["key"] == "KEY_A" and event["code"] == KEY_A and event["action"] == "pause_resume"
    assert event["phase"] == "paused"  # the phase after the command
    assert before <= event["at"] <= after
    # the press happened after `before` and was handled before `after`: its age lies in between
    assert 0 <= event["age_ms"] <= (after - before) * 1000 + 1


def test_status_callback_sees_state_changes_and_presses(session, opener) -> None:
    seen: list[dict] = []
    config = PedalConfig(enabled=True, retry_s=0.05)
    pedal = FootPedal(
        config, session.submit, lambda: session.phase, opener=opener, on_status=seen.append, poll_s=0.02
    )
    device = opener.plug(MemoryPedalDevice())
    try:
        pedal.start()
        wait_until(lambda: connected(pedal))
        press_and_wait(pedal, device, KEY_A)
    finally:
        pedal.stop()
    states = [status["state"] for status in seen]
    assert states[0] == "connecting" and "connected" in states and states[-1] == "disabled"
    assert any(status["last_event"] and status["last_event"]["command"] == "pause" for status in seen)


# ------------------------------------------------------------------------- device trouble


def test_missing_device_is_retried_and_recovers(make_pedal, session, opener) -> None:
    pedal = make_pedal(device_path="/dev/input/by-id/usb-Nope-event-kbd")
    pedal.start()
    wait_until(lambda: pedal.status()["state"] == "missing")
    status = pedal.status()
    assert status["device_path"] == "/dev/input/by-id/usb-Nope-event-kbd"
    assert "not found at /dev/input/by-id/usb-Nope-event-kbd" in status["message"]
    assert "retrying every 0.05 s" in status["message"]
    assert "/dev/input/by-id" in status["fix"] and "--pedal.device_path" in status["fix"]
    wait_until(lambda: opener.attempts >= 3)  # retried, not given up
    assert pedal.running

    device = opener.plug(MemoryPedalDevice())
    wait_until(lambda: connected(pedal))
    assert pedal.status()["fix"] is None
    press_and_wait(pedal, device, KEY_A)
    assert session.names() == ["pause"]


def test_permission_denied_names_the_fix_and_recovers(make_pedal, session, opener) -> None:
    path = "/dev/input/by-id/usb-PCsensor_FootSwitch-event-kbd"
    opener.fail_with(PermissionError(errno.EACCES, os.strerror(errno.EACCES), path))
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: pedal.status()["state"] == "permission_denied")
    status = pedal.status()
    assert f"no permission to read {path}" in status["message"]
    fix = status["fix"]
    assert "usermod -aG input" in fix
    assert 'SUBSYSTEM=="input", ATTRS{idVendor}=="VVVV"' in fix and 'MODE="0660", GROUP="input"' in fix
    assert "setfacl -m u:" in fix and path in fix
    assert pedal.status()["counts"]["open_failures"] >= 1

    opener.plug(MemoryPedalDevice())  # permissions fixed: the next retry connects
    wait_until(lambda: connected(pedal))


def test_unplug_mid_read_keeps_earlier_presses_and_reconnects(make_pedal, session, opener) -> None:
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: connected(pedal))
    device.press(KEY_A)  # queued before the cable is pulled: must still be handled
    opener.unplug()
    wait_until(lambda: pedal.status()["state"] == "missing")
    status = pedal.status()
    assert "unplugged" in status["message"] and "reconnects by itself" in status["fix"]
    assert session.names() == ["pause"]
    assert status["counts"]["disconnects"] == 1 and device.closed.is_set()

    replug = opener.plug(MemoryPedalDevice())
    wait_until(lambda: connected(pedal))
    press_and_wait(pedal, replug, KEY_A)
    assert session.names() == ["pause", "resume"]
    assert pedal.status()["counts"]["connects"] == 2


def test_not_an_input_device_is_an_error_with_a_fix(make_pedal, opener) -> None:
    opener.fail_with(OSError(errno.ENOTTY, os.strerror(errno.ENOTTY)))
    pedal = make_pedal(device_path="/tmp/not-a-device")
    pedal.start()
    wait_until(lambda: pedal.status()["state"] == "error")
    status = pedal.status()
    assert "cannot use /tmp/not-a-device as a pedal: Inappropriate ioctl" in status["message"]
    assert "evdev event node" in status["fix"]
    assert pedal.running  # still retrying


def test_enodev_at_open_reads_as_missing(make_pedal, opener) -> None:
    opener.fail_with(OSError(errno.ENODEV, os.strerror(errno.ENODEV)))
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: pedal.status()["state"] == "missing")
    assert "unplugged" in pedal.status()["message"]


def test_device_without_the_configured_codes_is_flagged(make_pedal, opener) -> None:
    opener.plug(MemoryPedalDevice(key_codes=[ecodes.BTN_LEFT]))  # the pedal's mouse node, say
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: connected(pedal))
    status = pedal.status()
    assert "does not report KEY_A (--pedal.pause_resume), KEY_B" in status["message"]
    assert "-event-kbd" in status["fix"]


def test_retry_failure_is_logged_once(make_pedal, opener, caplog) -> None:
    pedal = make_pedal()
    with caplog.at_level(logging.WARNING, logger="rollout_console.inputs.pedal"):
        pedal.start()
        wait_until(lambda: opener.attempts >= 5)
    assert sum("not found" in record.getMessage() for record in caplog.records) == 1


def test_disabled_pedal_opens_nothing(session, opener) -> None:
    pedal = FootPedal(PedalConfig(), session.submit, lambda: session.phase, opener=opener)
    pedal.start()
    time.sleep(0.05)
    assert not pedal.running and opener.attempts == 0
    assert pedal.status()["state"] == PedalState.DISABLED.value
    pedal.stop()


def test_stop_is_prompt_and_releases_the_device(make_pedal, opener) -> None:
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal()
    reads: list[tuple[float, bool]] = []  # (timeout, stop already requested) for every read the pedal makes
    real_read = device.read

    def read(timeout: float):  # noqa: ANN202
        reads.append((timeout, pedal._stop.is_set()))
        return real_read(timeout)

    device.read = read
    pedal.start()
    wait_until(lambda: connected(pedal) and reads)
    thread = pedal._thread
    pedal.stop(timeout=30)
    # prompt by construction: every read waits at most the poll period, and at most one starts after stop
    # was requested (it raced the loop's check), so stop returns within a poll or two (plus a running
    # submit) whatever the machine's load
    assert {timeout for timeout, _ in reads} == {0.02}
    assert sum(after_stop for _, after_stop in reads) <= 1
    assert not thread.is_alive() and not pedal.running and device.closed.is_set()
    assert pedal.status()["state"] == "disabled"


def test_start_twice_is_an_error(make_pedal) -> None:
    pedal = make_pedal()
    pedal.start()
    with pytest.raises(RuntimeError, match="already started"):
        pedal.start()


def test_memory_device_delivers_real_input_events() -> None:
    device = MemoryPedalDevice()
    device.push(KEY_B, 1)
    events = device.read(0.1)
    assert len(events) == 1 and isinstance(events[0], InputEvent)
    assert (events[0].type, events[0].code, events[0].value) == (ecodes.EV_KEY, KEY_B, 1)
    assert abs(events[0].timestamp() - time.time()) < 1.0
    assert device.read(0.01) == []
    device.unplug()
    with pytest.raises(OSError) as info:
        device.read(0.1)
    assert info.value.errno == errno.ENODEV


def test_without_evdev_the_status_says_how_to_install_it(session, opener, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "evdev", None)  # what a machine without evdev looks like to import
    pedal = FootPedal(PedalConfig(enabled=True), session.submit, lambda: session.phase, opener=opener)
    pedal.start()
    status = pedal.status()
    assert status["state"] == "error" and "evdev package is not installed" in status["message"]
    assert "pip install evdev" in status["fix"]
    assert not pedal.running and opener.attempts == 0
    pedal.stop()
    assert pedal.status()["state"] == "error"  # stop keeps the explanation


def test_stop_from_the_status_callback_does_not_deadlock(session, opener) -> None:
    holder: list[FootPedal] = []

    def on_status(status: dict) -> None:
        if status["last_event"] is not None and holder[0].running:
            holder[0].stop()

    device = opener.plug(MemoryPedalDevice())
    pedal = FootPedal(
        PedalConfig(enabled=True),
        session.submit,
        lambda: session.phase,
        opener=opener,
        on_status=on_status,
        poll_s=0.02,
    )
    holder.append(pedal)
    pedal.start()
    wait_until(lambda: connected(pedal))
    thread = pedal._thread
    device.press(KEY_A)
    wait_until(lambda: not thread.is_alive())
    assert session.names() == ["pause"] and pedal.status()["state"] == "disabled"


@pytest.mark.parametrize(("action", "outcome"), [("pause_resume", "success"), ("takeover_handback", "failure"),
                                                 ("upload", "unknown")])
def test_while_an_episode_awaits_its_outcome_each_pedal_labels_it(action: str, outcome: str) -> None:
    decision = decide(action, P.AWAITING_OUTCOME)
    assert decision.command == "save" and decision.args == {"outcome": outcome}


def test_a_pedal_press_labels_the_episode_through_the_session(session: FakeSession, opener: MemoryPedalOpener,
                                                              make_pedal) -> None:
    session.phase = P.AWAITING_OUTCOME
    device = opener.plug(MemoryPedalDevice())
    pedal = make_pedal()
    pedal.start()
    wait_until(lambda: connected(pedal))
    event = press_and_wait(pedal, device, ecodes.KEY_B)  # takeover_handback: failure
    assert session.calls == [("save", "pedal")] and session.args == [{"outcome": "failure"}]
    assert event["accepted"] is True and event["args"] == {"outcome": "failure"}
    assert session.phase is P.RESETTING
