"""The foot pedal through the real server: real evdev.InputEvent objects end in the same commands."""

from __future__ import annotations

import errno

import httpx
from evdev import ecodes
from helpers import config, dataset_flags, live_server, wait_until
from rollout_console.inputs.device import MemoryPedalDevice, MemoryPedalOpener


def _phase(live) -> str:
    return live.session.phase.value


def test_pedal_drives_a_dagger_session_and_counts_as_the_operator(tmp_path) -> None:
    opener = MemoryPedalOpener()
    device = opener.plug(MemoryPedalDevice(key_codes=[ecodes.KEY_A, ecodes.KEY_B, ecodes.KEY_C]))
    flags = dataset_flags(tmp_path / "d", "dagger", "--pedal.enabled=true", "--pedal.retry_s=0.2",
                          "--return_to_initial_position=false")
    with live_server(config(*flags), pedal_opener=opener) as live, live.client() as c:
        wait_until(lambda: c.get("/api/v1/status").json()["inputs"]["pedal"]["state"] == "connected",
                   message="pedal connected")
        # another client holds the lease: the pedal on the robot computer still counts as the operator
        assert c.post("/api/v1/lease/acquire", headers={"X-Client-Id": "tablet"}).json()["ok"]
        device.press(ecodes.KEY_A)
        wait_until(lambda: _phase(live) == "paused", message="pedal A pauses")
        device.press(ecodes.KEY_B)
        wait_until(lambda: _phase(live) == "correcting", message="pedal B takes over")
        device.press(ecodes.KEY_B)
        wait_until(lambda: _phase(live) == "paused", message="pedal B hands back")
        device.push(ecodes.KEY_A, 2)  # auto-repeat is ignored
        device.press(ecodes.KEY_A)
        wait_until(lambda: _phase(live) == "autonomous", message="pedal A resumes")
        sources = {e.data.get("source") for e in live.session.events.since(0) if e.kind == "phase_changed"}
        assert "pedal" in sources
        pedal = c.get("/api/v1/status").json()["inputs"]["pedal"]
        assert pedal["counts"]["accepted"] >= 4 and pedal["counts"]["repeats_ignored"] >= 1
        # unplugged mid-session: shown with the fix, retried, and the session carries on
        device.unplug()
        wait_until(lambda: c.get("/api/v1/status").json()["inputs"]["pedal"]["state"] in ("missing", "connecting"),
                   message="unplug noticed")
        assert _phase(live) == "autonomous"
        opener.plug(MemoryPedalDevice(key_codes=[ecodes.KEY_A, ecodes.KEY_B, ecodes.KEY_C]))
        wait_until(lambda: c.get("/api/v1/status").json()["inputs"]["pedal"]["state"] == "connected",
                   timeout=30, message="pedal reconnected")


def test_unreadable_pedal_is_shown_with_the_fix_and_never_crashes(tmp_path) -> None:
    opener = MemoryPedalOpener()
    opener.fail_with(PermissionError(errno.EACCES, "Permission denied"))
    with live_server(config("--pedal.enabled=true", "--pedal.retry_s=0.2"), pedal_opener=opener) as live:
        def pedal() -> dict:
            return httpx.get(live.url + "/api/v1/status").json()["inputs"]["pedal"]

        wait_until(lambda: pedal()["state"] == "permission_denied", message="permission error shown")
        assert "input" in pedal()["fix"]  # the input group / udev rule
        assert live.session.phase.value == "autonomous"
