"""The whole loop on the sim: record demonstrations with the console, train on them, deploy the result."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import config, dataset_flags, wait_until
from rollout_console.protocol.phases import Phase
from rollout_console.runtime import build_session


@pytest.mark.slow
def test_record_with_sentry_then_train_then_deploy_with_rtc(tmp_path) -> None:
    root = tmp_path / "demos"
    session = build_session(config(*dataset_flags(root, "sentry", "--strategy.episode_time_s=3",
                                                  "--dataset.video=false"), "--robot.cameras=top",
                                   "--return_to_initial_position=false"))
    session.start()
    try:
        wait_until(lambda: len(session.episodes() or []) >= 3, timeout=120, message="three recorded episodes")
    finally:
        session.shutdown()
    out = tmp_path / "policy"
    result = subprocess.run(
        [sys.executable, "-m", "rollout_console", "train", f"--dataset.root={root}", f"--output_dir={out}",
         "--steps=60", "--batch_size=32", "--eval_episodes=0"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (out / "model.safetensors").exists() and json.loads((out / "config.json").read_text())
    deployed = build_session(config(f"--policy.path={out}", "--inference.type=rtc", "--robot.cameras=top",
                                    "--return_to_initial_position=false"))
    deployed.start()
    try:
        wait_until(lambda: deployed.status()["inference"]["inferences"] >= 6, timeout=60, message="inference")
        assert deployed.phase is Phase.AUTONOMOUS and deployed.status()["error"] is None
    finally:
        deployed.shutdown()


def test_train_refuses_bad_flags_naming_them(tmp_path) -> None:
    result = subprocess.run([sys.executable, "-m", "rollout_console", "train", "--steps=abc"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--steps" in result.stderr and "--dataset.root" in result.stderr
