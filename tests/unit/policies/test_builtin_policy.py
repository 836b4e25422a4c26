"""The builtin sim_flow checkpoint: loads through the registry, solves the sim task, is guidable."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from rollout_console.config import load_config
from rollout_console.errors import ConfigError
from rollout_console.features import ENV_STATE, STATE, FeatureLayout
from rollout_console.hardware.sim.robot import ENV_FEATURES
from rollout_console.hardware.sim.world import SimWorld
from rollout_console.inference.rtc import RTCInferenceEngine
from rollout_console.policies.flow.policy import BUILTIN_DIR, FlowPolicy
from rollout_console.policies.flow.sim_eval import evaluate_in_sim
from rollout_console.policies.latency import SlowedPolicy
from rollout_console.policies.protocol import GuidedPolicy
from rollout_console.policies.registry import make_policy

JOINTS = ("shoulder_pan.pos", "shoulder_lift.pos", "elbow_flex.pos", "wrist_flex.pos", "wrist_roll.pos",
          "gripper.pos")
LAYOUT = FeatureLayout(JOINTS, ENV_FEATURES, {}, JOINTS)


@pytest.fixture(scope="module")
def policy() -> FlowPolicy:
    built = make_policy(load_config(["--policy.path=builtin:sim_flow", "--policy.seed=0"]).policy, LAYOUT, fps=30)
    assert isinstance(built, FlowPolicy)
    return built


def _frame(world: SimWorld, now: float) -> dict:
    q = world.read_joints(now)
    snap = world.snapshot()
    return {STATE: q.astype(np.float32), "task": "",
            ENV_STATE: np.array([*snap.object_pos, *snap.target_pos, float(snap.grasped)], np.float32)}


def test_builtin_checkpoint_is_small_and_guided(policy: FlowPolicy) -> None:
    size = sum(p.stat().st_size for p in (BUILTIN_DIR / "sim_flow").iterdir())
    assert size < 5_000_000
    assert isinstance(policy, GuidedPolicy) and policy.chunk_size == 50 and policy.action_names == JOINTS
    assert policy.config.training["episodes"] >= 100


def test_builtin_policy_solves_the_sim_task_in_closed_loop(policy: FlowPolicy) -> None:
    result = evaluate_in_sim(policy, episodes=6, seed=5000, n_action_steps=20)
    assert result.successes >= 5, result.summary()


def test_registry_errors_name_the_flag() -> None:
    with pytest.raises(ConfigError) as info:
        make_policy(load_config(["--policy.path=/nonexistent/ckpt"]).policy, LAYOUT, fps=30)
    assert info.value.flag == "--policy.path"
    with pytest.raises(ConfigError) as info:
        make_policy(load_config(["--policy.path=builtin:sim_flow"]).policy, LAYOUT, fps=50)
    assert info.value.flag == "--fps"
    other = FeatureLayout(JOINTS, (), {}, JOINTS)  # a robot without the sim task state
    with pytest.raises(ConfigError, match="lacks") as info:
        make_policy(load_config(["--policy.type=flow"]).policy, other, fps=30)
    assert info.value.flag == "--policy.path"


def test_guidance_pulls_the_new_chunk_onto_the_old_one(policy: FlowPolicy) -> None:
    """rtc.md test 5: the frozen-row error shrinks as beta grows (64 noise seeds, prefix of another scene)."""
    world_a = SimWorld(seed=11, start_time=0.0)
    world_b = SimWorld(seed=12, start_time=0.0)
    obs = _frame(world_a, 0.0)
    policy.reseed(0)
    other_chunk = policy.predict_chunk(_frame(world_b, 0.0))  # a different plan (different object)
    prefix = other_chunk[:30]
    delay, horizon = 5, 20
    cond = policy.encode(obs)
    target, weights = policy.guidance_target(prefix, delay, horizon, "EXP")
    noise = policy.noise(64, torch.Generator().manual_seed(1))
    frozen, middle = [], []
    y = policy.net.normalize_actions(torch.from_numpy(prefix))
    for beta in (0.0, 1.0, 2.0, 10.0):
        chunk = policy.sample(cond, noise, target, weights, beta)
        assert torch.isfinite(chunk).all()
        frozen.append(float((chunk[:, :delay] - y[:delay]).norm(dim=-1).mean()))
        w = weights[delay:horizon, None]
        middle.append(float((w * (chunk[:, delay:horizon] - y[delay:horizon]).abs()).mean()))
        assert float(chunk[:, horizon:].abs().max()) < 10  # fresh rows stay in a sane range
    assert all(b <= a * 1.02 for a, b in zip(frozen, frozen[1:], strict=False)), frozen
    assert all(b <= a * 1.02 for a, b in zip(middle, middle[1:], strict=False)), middle
    assert frozen[-1] < 0.5 * frozen[0], frozen  # a large drop from beta = 0 to beta = n
    # and the Jacobian-free variant (LeRobot's) also attracts, differently
    policy.jacobian_free = True
    try:
        free = policy.sample(cond, noise, target, weights, 10.0)
    finally:
        policy.jacobian_free = False
    assert float((free[:, :delay] - y[:delay]).norm(dim=-1).mean()) < frozen[0]


def test_rtc_with_the_flow_policy_and_real_latency_does_not_starve(policy: FlowPolicy) -> None:
    engine = RTCInferenceEngine(SlowedPolicy(policy, 150.0), fps=30.0, queue_threshold=40)  # slack for a loaded machine
    world = SimWorld(seed=21, start_time=time.perf_counter(), reset_after_success_s=0.0)
    engine.start()
    try:
        deadline = time.perf_counter()
        for _ in range(75):
            action = engine.next_action(_frame(world, time.perf_counter()))
            if action is not None:
                world.set_goal(action, time.perf_counter())
            deadline += 1 / 30
            time.sleep(max(0.0, deadline - time.perf_counter()))
        status = engine.status()
    finally:
        engine.stop()
    assert status["starved_ticks"] == 0 and status["errors"] == 0
    assert status["inferences"] >= 3 and status["delay_ticks"] >= 5
    assert status["boundary_jump"]["max"] is not None
