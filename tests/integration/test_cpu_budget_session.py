"""The CPU budget in a real console: status shows every value in force and where it came from, the encoder
cost is measured (a real encoder in a child process), flags win, and a machine that cannot keep up is told
so in status and in a warning event before frames are lost."""

from __future__ import annotations

import httpx
from helpers import cli_server, wait_until
from rollout_console.runtime.cpu_budget import available_cores


def _budget(url: str) -> dict:
    return httpx.get(f"{url}/api/v1/status", timeout=10).json()["cpu_budget"]


def test_status_shows_the_plan_measured_and_in_force(tmp_path) -> None:
    flags = ["--strategy.type=sentry", "--dataset.repo_id=tester/budget", f"--dataset.root={tmp_path / 'ds'}",
             "--dataset.push_to_hub=false", "--dataset.stamp_repo_id=false", "--robot.cameras=front,top"]
    with cli_server(*flags) as (url, _):
        budget = wait_until(lambda: (b := _budget(url)) and b["fits"] is not None and b, timeout=120,
                            message="the measured budget")
        assert budget["cores"] == available_cores()
        assert budget["torch_threads"] is None and budget["torch_threads_source"] == "none"  # scripted policy
        encoders = budget["encoders"]
        assert encoders["vcodec"] == "libsvtav1" and encoders["cameras"] == 2 and encoders["threads"] == 1
        assert encoders["preset"] in ("12", "13") and encoders["preset_source"] in ("default", "auto")
        cost = encoders["cpu_ms_per_frame"][encoders["preset"]]
        assert cost > 0 and encoders["cores_needed"] > 0
        assert encoders["probe_error"] is None


def test_flags_win_and_a_plan_that_cannot_fit_says_why(tmp_path) -> None:
    # x264's slowest preset on three cameras: far more than a third of any machine's cores
    flags = ["--strategy.type=sentry", "--dataset.repo_id=tester/budget", f"--dataset.root={tmp_path / 'ds'}",
             "--dataset.push_to_hub=false", "--dataset.stamp_repo_id=false", "--robot.cameras=front,top,side",
             "--dataset.vcodec=h264", "--dataset.preset=veryslow", "--dataset.encoder_threads=1",
             "--policy.path=builtin:sim_flow", "--policy.torch_threads=1"]
    with cli_server(*flags) as (url, _):
        budget = wait_until(lambda: (b := _budget(url)) and b["fits"] is not None and b, timeout=180,
                            message="the measured budget")
        assert (budget["torch_threads"], budget["torch_threads_source"]) == (1, "flag")
        encoders = budget["encoders"]
        assert (encoders["preset"], encoders["preset_source"]) == ("veryslow", "flag")
        assert (encoders["threads"], encoders["threads_source"]) == (1, "flag")
        events = httpx.get(f"{url}/api/v1/events", params={"since": 0}, timeout=10).json()
        warnings = [e for e in events["data"] if e["kind"] == "cpu_budget"]
        if encoders["cores_needed"] > max(0.5, 0.35 * budget["cores"]):  # always on a machine of < 20 cores
            assert budget["fits"] is False and "more than the" in budget["advice"]
            assert warnings and "cannot keep up" in warnings[0]["data"]["message"]
        else:
            assert budget["fits"] is True and not warnings
