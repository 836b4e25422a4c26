"""Sync engine (the baseline), the shared metrics, and building engines from flags."""

from __future__ import annotations

import numpy as np
import pytest
from inference_fakes import ClockPolicy, GuidedClockPolicy, observation

from rollout_console.config import load_config
from rollout_console.errors import ConfigError
from rollout_console.features import FeatureLayout
from rollout_console.hardware.sim.robot import ENV_FEATURES
from rollout_console.inference.base import ChunkMetrics
from rollout_console.inference.factory import build_engine, build_engine_for
from rollout_console.inference.rtc import RTCInferenceEngine
from rollout_console.inference.sync import SyncInferenceEngine
from rollout_console.policies.latency import SlowedPolicy

JOINTS = ("shoulder_pan.pos", "shoulder_lift.pos", "elbow_flex.pos", "wrist_flex.pos", "wrist_roll.pos",
          "gripper.pos")
SIM_LAYOUT = FeatureLayout(JOINTS, ENV_FEATURES, {}, JOINTS)


def test_sync_executes_n_action_steps_then_replans_inline() -> None:
    policy = ClockPolicy(chunk_size=10)
    engine = SyncInferenceEngine(policy, n_action_steps=4)
    last = -1.0
    for _ in range(12):
        action = engine.next_action(observation(last))
        assert action is not None
        last = float(action[0])
    assert last == 11.0  # the clock continues: each chunk starts where the robot is
    assert len(policy.calls) == 3
    status = engine.status()
    assert status["engine"] == "sync" and status["starved_ticks"] == 0 and status["delay_ticks"] == 0
    assert status["inferences"] == 3 and status["stall_ms_total"] is not None
    assert status["latency_ms"]["p50"] is not None  # the cold start is left out, two inferences remain
    assert status["boundary_jump"]["max"] == pytest.approx(1.0)
    assert status["plot"]["executed"][-1] == 11.0 and len(status["plot"]["upcoming"]) == 0


def test_chunk_metrics_separate_boundaries_from_steps() -> None:
    metrics = ChunkMetrics()
    for value, first in ((0, False), (1, False), (2, False), (9, True), (10, False)):
        metrics.executed(np.array([value, 0.0]), first_of_chunk=first)
    data = metrics.to_dict()
    assert data["boundary_jump"] == {"last": 7.0, "p99": 7.0, "max": 7.0}
    assert data["step_change_p50"] == 1.0
    metrics.forget_last_action()
    metrics.executed(np.array([100.0, 0.0]), first_of_chunk=True)  # after a reset: no jump recorded
    assert metrics.to_dict()["boundary_jump"]["max"] == 7.0


def test_build_engine_from_flags() -> None:
    engine = build_engine(load_config([]), SIM_LAYOUT)
    assert isinstance(engine, SyncInferenceEngine) and engine.policy_name == "scripted_expert"
    engine = build_engine(load_config(["--inference.simulated_latency_ms=50"]), SIM_LAYOUT)
    assert isinstance(engine.policy, SlowedPolicy)
    engine = build_engine(load_config(["--inference.type=rtc", "--policy.path=builtin:sim_flow",
                                       "--inference.rtc.execution_horizon=20",
                                       "--inference.rtc.prefix_attention_schedule=exp",
                                       "--inference.simulated_latency_ms=100"]), SIM_LAYOUT)
    assert isinstance(engine, RTCInferenceEngine)
    assert engine.execution_horizon == 20 and engine.schedule == "EXP" and engine.guidance
    assert engine.policy_name.startswith("flow:sim_flow")
    assert hasattr(engine.policy, "predict_chunk_guided")  # the slowed flow policy is still guided
    engine = build_engine(load_config(["--inference.type=rtc", "--policy.type=flow", "--policy.jacobian_free=true",
                                       "--policy.guidance_prior_std=0.5", "--policy.num_steps=4"]), SIM_LAYOUT)
    flow = engine.policy
    assert (flow.jacobian_free, flow.prior_std, flow.num_steps) == (True, 0.5, 4)  # type: ignore[attr-defined]


def test_rtc_with_the_scripted_expert_is_refused_naming_the_alternatives() -> None:
    with pytest.raises(ConfigError) as info:
        build_engine(load_config(["--inference.type=rtc"]), SIM_LAYOUT)
    assert info.value.flag == "--inference.type"
    assert "--inference.type=sync" in str(info.value)
    engine = build_engine(load_config(["--inference.type=rtc", "--inference.rtc.guidance=false"]), SIM_LAYOUT)
    assert isinstance(engine, RTCInferenceEngine) and engine.status()["mode"] == "naive"


def test_inference_flags() -> None:
    config = load_config(["--inference.type=rtc"])
    assert config.inference.queue_threshold is None  # unset: the trigger follows the measured delay
    rtc = config.inference.rtc
    assert (rtc.trigger_margin, rtc.trigger_margin_ms) == (1.0, 100.0)
    assert (rtc.execution_horizon, rtc.max_guidance_weight, rtc.prefix_attention_schedule, rtc.guidance) == (
        10, 10.0, "LINEAR", True)
    assert load_config(["--inference.simulated_latency_ms=100"]).inference.type == "sync"
    with pytest.raises(ConfigError, match="execution_horizon"):
        load_config(["--inference.type=rtc", "--inference.rtc.execution_horizon=0"])
    with pytest.raises(ConfigError, match="prefix_attention_schedule"):
        load_config(["--inference.type=rtc", "--inference.rtc.prefix_attention_schedule=COSINE"])
    with pytest.raises(ConfigError, match="only to --inference.type=rtc"):
        load_config(["--inference.queue_threshold=10"])
    with pytest.raises(ConfigError, match="only to --inference.type=sync"):
        load_config(["--inference.type=rtc", "--inference.n_action_steps=10"])


def test_engine_for_a_built_policy() -> None:
    config = load_config(["--inference.type=rtc", "--inference.queue_threshold=12"])
    engine = build_engine_for(config.inference, GuidedClockPolicy(), fps=30.0)
    assert isinstance(engine, RTCInferenceEngine) and engine.queue_threshold == 12
    assert engine.status()["queue_threshold_mode"] == "fixed"
    automatic = build_engine_for(load_config(["--inference.type=rtc", "--inference.rtc.trigger_margin_ms=500"]).inference,
                                 GuidedClockPolicy(), fps=30.0)
    assert isinstance(automatic, RTCInferenceEngine) and automatic.status()["queue_threshold_mode"] == "latency"
    assert automatic.queue_threshold == 1 + 15  # no delay measured yet (1 tick) + 500 ms at 30 fps
