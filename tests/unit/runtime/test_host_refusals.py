"""The host refuses a new session while the last one is still being recorded as ended, and once the process
is about to exit (--server.exit_when_stopped): nothing is built or connected then."""

from __future__ import annotations

import pytest
from rollout_console.config import load_config
from rollout_console.runtime.host import ConsoleHost, SessionBusy


def _host(tmp_path) -> ConsoleHost:
    return ConsoleHost(load_config([f"--server.data_dir={tmp_path}", "--robot.camera_width=64",
                                    "--robot.camera_height=48"]))


def test_a_host_about_to_exit_refuses_new_sessions_before_building_anything(tmp_path) -> None:
    host = _host(tmp_path)
    host.refuse_new_sessions("the server is exiting")
    with pytest.raises(SessionBusy, match="exiting"):
        host.start_session(host.config)
    assert not host.robot.is_connected and host.history.records() == []


def test_no_session_starts_until_the_last_ones_end_is_recorded(tmp_path) -> None:
    host = _host(tmp_path)
    try:
        first = host.start_session(host.config)
        first.shutdown()
        assert first.finished
        host._settled = False  # the moment between the loop finishing and the host recording the end
        with pytest.raises(SessionBusy, match="still stopping"):
            host.start_session(host.config)
        host._ended(first)  # the end recorded (idempotent for the history): now a new session may start
        second = host.start_session(host.config)
        assert second.id != first.id
    finally:
        host.close()
