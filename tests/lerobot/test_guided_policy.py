"""Guided (real-time-chunking) LeRobot policies: the prefix goes to LeRobot's RTC hooks in model space.

Pi0 / Pi0.5 / SmolVLA need multi-GB weights, so a small flow policy written as a LeRobot plugin with the
same hooks stands in (fake_lerobot_policy); the guidance itself is LeRobot's own RTCProcessor.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fake_lerobot_policy.configuration_fakeflow import FakeFlowConfig
from fake_lerobot_policy.modeling_fakeflow import FakeFlowPolicy
from helpers import config, wait_until
from lerobot.configs.types import FeatureType, PolicyFeature
from lerobot.policies.factory import make_pre_post_processors
from lerobot_helpers import built_session
from rollout_console.config.lerobot import LeRobotPolicyConfig
from rollout_console.features import FeatureLayout
from rollout_console.policies.lerobot_policy import GuidedLeRobotPolicy, load_lerobot_policy
from rollout_console.policies.protocol import GuidedPolicy, is_guided

JOINTS = ("shoulder_pan.pos", "shoulder_lift.pos", "elbow_flex.pos", "wrist_flex.pos", "wrist_roll.pos",
          "gripper.pos")
MEAN = np.array([0, -20, 30, 40, 0, 20], np.float32)
STD = np.full(6, 10, np.float32)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("fakeflow") / "fakeflow"
    cfg = FakeFlowConfig(input_features={"observation.state": PolicyFeature(FeatureType.STATE, (6,))},
                         output_features={"action": PolicyFeature(FeatureType.ACTION, (6,))}, device="cpu")
    stats = {"observation.state": {"mean": np.zeros(6, np.float32), "std": np.full(6, 50, np.float32)},
             "action": {"mean": MEAN, "std": STD}}
    pre, post = make_pre_post_processors(cfg, dataset_stats=stats)
    for part in (FakeFlowPolicy(cfg), pre, post):
        part.save_pretrained(out)
    return out


def _load(checkpoint) -> GuidedLeRobotPolicy:
    layout = FeatureLayout(JOINTS, (), {}, JOINTS)
    policy = load_lerobot_policy(LeRobotPolicyConfig(path=str(checkpoint)), layout, 30.0)
    assert isinstance(policy, GuidedLeRobotPolicy) and isinstance(policy, GuidedPolicy) and is_guided(policy)
    return policy


OBS = {"observation.state": np.array([10, -30, 40, 20, 0, 50], np.float32), "task": ""}


def test_prefix_is_normalised_and_guides_the_overlap(checkpoint) -> None:
    policy = _load(checkpoint)
    plain = policy.predict_chunk(OBS)
    assert plain.shape == (16, 6) and policy.policy.calls[-1] == {}  # no RTC arguments without a prefix
    prefix = np.tile(MEAN + 20.0, (10, 1)).astype(np.float32)
    guided = policy.predict_chunk_guided(OBS, prefix, inference_delay=3, execution_horizon=8)
    call = policy.policy.calls[-1]
    assert call["inference_delay"] == 3 and call["execution_horizon"] == 8
    torch.testing.assert_close(call["prev_chunk_left_over"], torch.full((1, 10, 6), 2.0))  # (x - mean) / std
    rtc = policy.policy.config.rtc_config
    assert rtc.enabled and rtc.prefix_attention_schedule.value == "LINEAR" and rtc.max_guidance_weight == 10.0
    pulled = np.abs(guided[:3] - prefix[:3]).mean()
    assert pulled < 0.3 * np.abs(plain[:3] - prefix[:3]).mean()  # the executed rows follow the prefix
    np.testing.assert_array_equal(guided[10:], plain[10:])  # beyond the prefix (weight 0): untouched


def test_schedule_and_weight_reach_lerobots_rtc_config(checkpoint) -> None:
    policy = _load(checkpoint)
    plain = policy.predict_chunk(OBS)
    prefix = np.tile(MEAN + 20.0, (12, 1)).astype(np.float32)
    zeros = policy.predict_chunk_guided(OBS, prefix, 3, 8, schedule="ZEROS", max_guidance_weight=5.0)
    rtc = policy.policy.config.rtc_config
    assert rtc.prefix_attention_schedule.value == "ZEROS" and rtc.max_guidance_weight == 5.0
    np.testing.assert_array_equal(zeros[3:], plain[3:])  # ZEROS guides only the rows executed anyway
    assert not np.allclose(zeros[:3], plain[:3])
    linear = policy.predict_chunk_guided(OBS, prefix, 3, 8, schedule="LINEAR")
    assert not np.allclose(linear[3:8], plain[3:8])
    unguided = policy.predict_chunk_guided(OBS, prefix, 3, 8, max_guidance_weight=0.0)
    np.testing.assert_array_equal(unguided, plain)
    empty = policy.predict_chunk_guided(OBS, np.zeros((0, 6), np.float32), 3, 8)
    np.testing.assert_array_equal(empty, plain)


def test_rtc_engine_runs_the_guided_lerobot_policy_on_the_sim(checkpoint) -> None:
    cfg = config(f"--policy.path={checkpoint}", "--inference.type=rtc", "--inference.queue_threshold=8",
                 "--inference.rtc.execution_horizon=8", "--return_to_initial_position=false")
    assert cfg.policy.type == "lerobot"
    with built_session(cfg) as session:
        wait_until(lambda: session.status()["inference"]["inferences"] >= 4, timeout=20, message="guided chunks")
        status = session.status()["inference"]
        assert status["mode"] == "guided" and status["errors"] == 0
        assert session.phase.value == "autonomous"
        calls = session.ctx.engine.policy.policy.calls
    assert any("prev_chunk_left_over" in call for call in calls[1:])  # later chunks were guided


def test_pi0_style_postprocessors_stay_guidable_unless_actions_are_relative(checkpoint) -> None:
    """LeRobot 0.6's Pi0/Pi0.5 pipelines end with an AbsoluteActionsProcessorStep that is disabled unless the
    policy predicts relative actions; a disabled one must not cost the policy its guidance."""
    from lerobot.processor import AbsoluteActionsProcessorStep, RelativeActionsProcessorStep
    from rollout_console.policies.lerobot_policy import _guidable

    policy = _load(checkpoint)
    post = policy.postprocessor
    assert _guidable(policy.policy, post) is None
    for enabled in (False, True):
        relative = RelativeActionsProcessorStep(enabled=enabled)
        post.steps.append(AbsoluteActionsProcessorStep(enabled=enabled, relative_step=relative))
        reason = _guidable(policy.policy, post)
        post.steps.pop()
        assert (reason is None) if not enabled else ("relative actions" in reason)
