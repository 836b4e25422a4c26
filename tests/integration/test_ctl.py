"""`rollout-console ctl` / `rollout-ctl`: exit statuses against a real server on the sim (one per answer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from helpers import REPO, config, free_port, live_server, wait_until
from rollout_console.api.auth import AccessPolicy
from rollout_console.client import Console
from rollout_console.client.ctl import main as ctl_main

OPERATOR = "operator-token-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdefgh"


@pytest.fixture(scope="module")
def server():
    with live_server(config("--return_to_initial_position=false", "--lease.timeout_s=10")) as live:
        wait_until(lambda: live.session.phase.value == "autonomous", timeout=30)
        yield live


def run(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = ctl_main(list(args))
    except SystemExit as exc:  # argparse: bad usage
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_status_and_applied_commands_exit_0(server, capsys) -> None:
    code, out, _ = run(capsys, server.url, "status")
    assert code == 0 and "phase      autonomous" in out and "strategy   base" in out
    code, out, _ = run(capsys, server.url, "--json", "status")
    assert code == 0 and json.loads(out)["strategy"] == "base"
    code, out, _ = run(capsys, server.url, "pause")
    assert (code, out.strip()) == (0, "pause: paused")
    code, out, _ = run(capsys, server.url, "--json", "pause")
    assert code == 0 and json.loads(out) == {"name": "pause", "accepted": True, "phase": "paused",
                                             "detail": "already paused", "outcome": "already", "status": 200}
    assert run(capsys, server.url, "resume")[0] == 0


def test_reset_clears_an_estop_and_resume_before_it_exits_3(server, capsys) -> None:
    assert run(capsys, server.url, "estop")[0] == 0
    code, out, err = run(capsys, server.url, "resume")
    assert (code, out) == (3, "") and "clear the E-STOP first (reset)" in err
    code, out, _ = run(capsys, server.url, "reset")
    assert (code, out.strip()) == (0, "reset: paused")
    code, _, err = run(capsys, server.url, "reset")  # nothing to clear now
    assert code == 3 and "estopped" in err
    assert run(capsys, server.url, "resume")[0] == 0
    code, out, _ = run(capsys, server.url, "--help")
    assert code == 0 and "reset" in out


def test_events_prints_one_line_per_event(server, capsys) -> None:
    with Console(server.url, name="events-test") as console:
        since = console.status().event_seq
        console.pause()
        console.resume()
    code, out, _ = run(capsys, server.url, "--json", "events", f"--since={since}", "--count=3", "--kind=phase_changed",
                       "--kind=command")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [line["seq"] for line in lines] == [since + 1, since + 2, since + 3]
    code, out, _ = run(capsys, server.url, "events", f"--since={since}", "--count=1")
    assert code == 0 and "phase_changed" in out and f"{since + 1}" in out


def test_rejected_exits_3_with_the_reason_on_stderr(server, capsys) -> None:
    code, out, err = run(capsys, server.url, "takeover")  # 409
    assert code == 3 and out == "" and "not available with the base strategy" in err
    code, _, err = run(capsys, server.url, "exclude", "--episode=0", "--reason=x")  # 422 from the server's model
    assert code == 3 and "episode" in err
    code, out, _ = run(capsys, server.url, "--json", "takeover")
    assert code == 3 and json.loads(out)["status"] == 409


def test_bad_usage_exits_2(server, capsys) -> None:
    assert run(capsys, server.url, "save", "--outcome=maybe")[0] == 2
    assert run(capsys, server.url, "teleport")[0] == 2
    assert run(capsys, server.url)[0] == 2
    code, _, err = run(capsys, server.url, "--name=has space", "status")
    assert code == 2 and "client id" in err


def test_another_holder_exits_4_naming_it(server, capsys) -> None:
    with Console(server.url, name="tablet-a") as tablet, tablet.control(label="tablet A"):
        code, _, err = run(capsys, server.url, "pause")
        assert code == 4 and "tablet A" in err
        assert run(capsys, server.url, "estop")[0] == 0  # estop always
        tablet.reset()
        tablet.resume()
    assert server.session.phase.value in ("autonomous", "paused")  # releasing may pause a moving robot


def test_unreachable_exits_5(capsys) -> None:
    code, _, err = run(capsys, f"http://127.0.0.1:{free_port()}", "--timeout=5", "status")
    assert code == 5 and "did not answer" in err


class _GatedPolicy:
    """The real policy, but its next inference waits for the test: a control loop slower than the command
    timeout, whatever the machine's load."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict_chunk(self, observation):  # noqa: ANN001, ANN201
        self.entered.set()
        self.release.wait(60)
        return self.inner.predict_chunk(observation)

    def __getattr__(self, item: str):  # noqa: ANN204
        return getattr(self.inner, item)


def test_not_applied_exits_5(capsys) -> None:
    with live_server(config("--return_to_initial_position=false", "--loop.command_timeout_s=0.3")) as live:
        wait_until(lambda: live.session.phase.value == "autonomous", timeout=30)
        engine = live.session.ctx.engine
        gated = _GatedPolicy(engine.policy)
        engine.policy = gated
        try:
            assert gated.entered.wait(60), "the loop never reached the inference"
            code, _, err = run(capsys, live.url, "pause")
            assert code == 5 and "not applied" in err
        finally:
            gated.release.set()
            engine.policy = gated.inner


def test_not_allowed_exits_6() -> None:
    def lan(port: int) -> AccessPolicy:
        return AccessPolicy.from_host("0.0.0.0", port, env={"ROLLOUT_CONSOLE_TOKEN": OPERATOR,
                                                            "ROLLOUT_CONSOLE_VIEWER_TOKEN": VIEWER})

    with live_server(config("--return_to_initial_position=false"), access=lan) as live:
        # the real command line in a second process: `rollout-console ctl` dispatches to the same code
        def ctl(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
            env = {key: value for key, value in os.environ.items() if not key.startswith("ROLLOUT_CONSOLE_")}
            if token:
                env["ROLLOUT_CONSOLE_TOKEN"] = token
            return subprocess.run([sys.executable, "-m", "rollout_console", "ctl", live.url, *args],
                                  capture_output=True, text=True, timeout=180, cwd=REPO, env=env)

        assert ctl("status").returncode == 6  # 401: no token
        viewer = ctl("pause", token=VIEWER)
        assert viewer.returncode == 6 and "viewer" in viewer.stderr  # 403
        assert ctl("status", token=OPERATOR).returncode == 0
