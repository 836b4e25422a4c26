"""A real LeRobot ACT policy (random weights, saved with its processors) deployed with --policy.path on the sim.

Offline: the ACT vision backbone is built without pretrained weights, the normalisation stats come from
a dataset the console recorded, and the checkpoint is a local folder. The session records with sentry;
the recorded actions must be exactly the policy's chunks (after the sim's joint-limit clipping).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import config, dataset_flags, wait_until
from lerobot.datasets.lerobot_dataset import LeRobotDatasetMetadata
from lerobot.utils.feature_utils import dataset_to_policy_features
from lerobot_helpers import built_session, compare, read_back, save_act
from rollout_console.errors import ConfigError
from rollout_console.hardware.sim.kinematics import clip_joints
from rollout_console.policies.lerobot_policy import LeRobotPolicy
from rollout_console.runtime import build_session


@pytest.fixture(scope="module")
def sim_act(tmp_path_factory):
    """(checkpoint, dataset root): an ACT shaped like the sim, normalised with a console-recorded dataset."""
    base = tmp_path_factory.mktemp("act")
    root = base / "demo"
    with built_session(config(*dataset_flags(root, "sentry"), "--return_to_initial_position=false")) as session:
        wait_until(lambda: session.recording.frames > 30, message="demo frames")
    meta = LeRobotDatasetMetadata("tester/sentry_test", root=root)
    features = dataset_to_policy_features(meta.features)
    inputs = {key: feature.shape for key, feature in features.items() if key != "action"}
    assert set(inputs) == {"observation.state", "observation.environment_state", "observation.images.front",
                           "observation.images.top"}
    checkpoint = save_act(base / "act_sim", inputs, action_dim=6, stats=meta.stats, chunk_size=10)
    return checkpoint, root


def _policy_flags(sim_act, *extra: str) -> list[str]:
    checkpoint, root = sim_act
    return [f"--policy.path={checkpoint}", f"--policy.features_from={root}", *extra]


def test_act_drives_the_sim_and_its_actions_are_recorded(sim_act, tmp_path) -> None:
    root = tmp_path / "rollout"
    cfg = config(*_policy_flags(sim_act, "--policy.n_action_steps=10"), *dataset_flags(root, "sentry"),
                 "--return_to_initial_position=false")
    assert cfg.policy.type == "lerobot"  # a LeRobot checkpoint directory selects the LeRobot loader
    chunks: list[np.ndarray] = []

    def tee_chunks(session) -> None:
        policy = session.ctx.engine.policy
        assert isinstance(policy, LeRobotPolicy) and policy.check.names_verified
        predict = policy.predict_chunk
        policy.predict_chunk = lambda observation: chunks.append(predict(observation)) or chunks[-1]

    with built_session(cfg, prepare=tee_chunks) as session:
        wait_until(lambda: session.recording.frames > 35, timeout=30, message="recorded frames")
        status = session.status()
        assert status["policy"]["name"].startswith("lerobot:act(act_sim)")
        assert status["inference"]["inferences"] >= 3 and status["inference"]["errors"] == 0
        assert session.submit("save").accepted
    assert len(chunks) >= 3 and all(chunk.shape == (10, 6) and chunk.dtype == np.float32 for chunk in chunks)
    sent = np.concatenate([clip_joints(chunk.astype(np.float64)).astype(np.float32) for chunk in chunks])
    recorded = np.stack([frame["action"] for frame in session.tee.saved[0].frames])
    np.testing.assert_allclose(recorded, sent[: len(recorded)], rtol=0, atol=1e-5)
    assert np.ptp(recorded, axis=0).max() > 0.1
    dataset = read_back(root, "tester/sentry_test")
    compare(dataset, session.tee.saved, 30.0, max_image_error=8.0)


def test_rtc_refuses_act_but_naive_async_runs_it(sim_act) -> None:
    with pytest.raises(ConfigError) as error:
        build_session(config(*_policy_flags(sim_act), "--inference.type=rtc"))
    assert error.value.flag == "--inference.type" and "lerobot:act(act_sim)" in str(error.value)
    assert "--inference.rtc.guidance=false" in str(error.value)
    cfg = config(*_policy_flags(sim_act), "--inference.type=rtc", "--inference.rtc.guidance=false",
                 "--inference.queue_threshold=4", "--return_to_initial_position=false")
    with built_session(cfg) as session:
        wait_until(lambda: session.status()["inference"]["inferences"] >= 3, timeout=20, message="async chunks")
        assert session.phase.value == "autonomous" and session.status()["inference"]["mode"] == "naive"


@pytest.mark.parametrize(("flags", "flag", "message"), [
    (["--fps=15"], "--fps", "recorded at 30 fps but the session runs at 15"),
    (["--policy.bogus=1"], "--policy.bogus", "not an option of LeRobot policy act"),
    (["--policy.rename_map={observation.images.front: observation.images.wrist}"], "--policy.path",
     "needs observation.images.front"),
    (["--robot.cameras=front"], "--policy.path", "needs observation.images.top"),
    (["--policy.device=cuda:3"], "--policy.device", "not available"),
])
def test_mismatches_stop_before_the_robot_connects(sim_act, flags, flag, message) -> None:
    with pytest.raises(ConfigError) as error:
        build_session(config(*_policy_flags(sim_act), *flags))
    assert error.value.flag == flag and message in str(error.value)


def test_joint_order_mismatch_is_refused(sim_act, tmp_path) -> None:
    import json
    import shutil

    checkpoint, root = sim_act
    swapped = tmp_path / "swapped"
    shutil.copytree(root / "meta", swapped / "meta")
    info = json.loads((swapped / "meta" / "info.json").read_text())
    names = info["features"]["action"]["names"]
    names[0], names[1] = names[1], names[0]
    (swapped / "meta" / "info.json").write_text(json.dumps(info))
    with pytest.raises(ConfigError, match=r"the same joints in another order"):
        build_session(config(f"--policy.path={checkpoint}", f"--policy.features_from={swapped}"))
