"""The simulated SO-101: determinism under a seed, rate-limited dynamics, kinematics, task, cameras."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import config, wait_until
from rollout_console.features import ENV_STATE, STATE, FeatureLayout
from rollout_console.hardware.sim import (
    ENV_FEATURES,
    HOME,
    JOINT_LIMITS,
    JOINT_NAMES,
    SimRobot,
    SimWorld,
    forward_kinematics,
    inverse_kinematics,
)
from rollout_console.hardware.sim.render import SceneRenderer
from rollout_console.policies.scripted import ScriptedExpert

NAMES = [f"{j}.pos" for j in JOINT_NAMES]


def _rollout(seed: int, steps: int = 300, fps: float = 30.0) -> tuple[list[np.ndarray], SimWorld]:
    """Closed loop: scripted expert on the world with a fake clock (fully deterministic)."""
    world = SimWorld(seed=seed, start_time=0.0, reset_after_success_s=0)
    expert = ScriptedExpert(NAMES, list(ENV_FEATURES), NAMES, fps)
    queue: list[np.ndarray] = []
    trace = []
    t = 0.0
    for _ in range(steps):
        q = world.read_joints(t)
        state = world.snapshot()
        env = np.array([*state.object_pos, *state.target_pos, float(state.grasped)])
        if not queue:
            queue = list(expert.predict_chunk({STATE: q, ENV_STATE: env}))
        world.set_goal(queue.pop(0), t)
        trace.append(q)
        t += 1 / fps
    return trace, world


def test_same_seed_same_run_bit_for_bit() -> None:
    a, _ = _rollout(3)
    b, _ = _rollout(3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_seed_changes_the_scene() -> None:
    s1 = SimWorld(seed=1, start_time=0.0).snapshot()
    s2 = SimWorld(seed=2, start_time=0.0).snapshot()
    assert not np.allclose(s1.object_pos, s2.object_pos)


def test_joint_speed_is_rate_limited_and_converges() -> None:
    world = SimWorld(seed=0, start_time=0.0, max_speed_deg_s=90.0, time_constant_s=0.05)
    goal = np.array([HOME[n] for n in JOINT_NAMES])
    goal[0] = 90.0
    world.set_goal(goal, 0.0)
    q_half = world.read_joints(0.5)
    assert q_half[0] == pytest.approx(45.0, abs=0.5)  # 90 deg/s for 0.5 s, never faster
    q_late = world.read_joints(3.0)
    assert q_late[0] == pytest.approx(90.0, abs=0.01)


def test_goals_are_clipped_to_joint_limits() -> None:
    world = SimWorld(seed=0, start_time=0.0)
    goal = np.array([500.0, -500.0, 0.0, 0.0, 0.0, 250.0])
    clipped = world.set_goal(goal, 0.0)
    assert clipped[0] == JOINT_LIMITS["shoulder_pan"][1] and clipped[1] == JOINT_LIMITS["shoulder_lift"][0]
    assert clipped[5] == 100.0


@pytest.mark.parametrize("point", [(0.2, 0.05, 0.02), (0.15, -0.1, 0.07), (0.22, 0.0, 0.015)])
def test_inverse_then_forward_kinematics_round_trip(point) -> None:
    solution = inverse_kinematics(*point)
    assert solution is not None
    q = np.array([*solution, 0.0, 50.0])
    pose = forward_kinematics(q)
    assert np.allclose(pose.tip, point, atol=1e-9)
    assert pose.hand_dir[2] == pytest.approx(-1.0)  # pointing straight down


def test_unreachable_point_has_no_solution() -> None:
    assert inverse_kinematics(0.6, 0.0, 0.0) is None


@pytest.mark.parametrize("seed", range(6))
def test_scripted_expert_solves_the_task(seed) -> None:
    _, world = _rollout(seed, steps=30 * 12)
    status = world.task_status()
    assert status["success"], f"seed {seed}: {status}"
    assert 1.0 < status["time_to_success_s"] < 12.0


def test_robot_features_and_actions_follow_lerobot_conventions() -> None:
    robot = SimRobot(config("--robot.cameras=front,top,side").robot)
    obs_features = robot.observation_features
    assert all(obs_features[n] is float for n in NAMES)
    assert obs_features["front"] == (120, 160, 3)
    assert robot.action_features == {n: float for n in NAMES}
    layout = FeatureLayout.from_robot(obs_features, robot.action_features)
    assert layout.state_names == tuple(NAMES) and layout.env_names == ENV_FEATURES
    assert layout.camera_names == ("front", "top", "side")


def test_robot_sends_what_it_accepted_and_cameras_stream() -> None:
    robot = SimRobot(config("--robot.camera_fps=20").robot)
    robot.connect()
    try:
        sent = robot.send_action({"shoulder_pan.pos": 999.0})
        assert sent["shoulder_pan.pos"] == JOINT_LIMITS["shoulder_pan"][1]
        assert sent["elbow_flex.pos"] == pytest.approx(HOME["elbow_flex"])
        obs = robot.get_observation()
        assert obs["front"].shape == (120, 160, 3) and obs["front"].dtype == np.uint8
        first = robot.cameras["front"].latest()
        wait_until(lambda: robot.cameras["front"].latest().seq > first.seq + 3, timeout=30,
                   message="new frames")
        later = robot.cameras["front"].latest()
        assert not np.array_equal(first.image, later.image)  # the arm moves and the clock overlay ticks
        stats = robot.cameras["front"].stats()
        assert stats.fps > 0 and stats.frames >= 4 and stats.age_ms is not None
        with pytest.raises(Exception, match="unknown action keys"):
            robot.send_action({"tail.pos": 1.0})
    finally:
        robot.disconnect()


def test_renderer_draws_every_view_at_the_requested_size() -> None:
    state = SimWorld(seed=0, start_time=0.0).snapshot()
    for view in ("front", "top", "side"):
        image = SceneRenderer(view, 320, 240).render(state)
        assert image.shape == (240, 320, 3) and image.dtype == np.uint8
        assert image.std() > 10  # not a blank frame


def test_expert_refuses_a_robot_without_the_task_state() -> None:
    from rollout_console.errors import ConfigError

    with pytest.raises(ConfigError, match=r"--robot\.type=sim"):
        ScriptedExpert(NAMES, [], NAMES, 30.0)


def test_world_resets_the_scene_after_success() -> None:
    world = SimWorld(seed=1, start_time=0.0, reset_after_success_s=0.5)
    _, solved = _rollout(1, steps=30 * 12)
    assert solved.task_status()["success"]
    # the same rollout on a world that re-randomises: the first scene is closed as a success
    fps = 30.0
    expert = ScriptedExpert(NAMES, list(ENV_FEATURES), NAMES, fps)
    queue: list[np.ndarray] = []
    t = 0.0
    while world.task_status()["attempts"] == 0 and t < 20:
        q = world.read_joints(t)
        state = world.snapshot()
        if not queue:
            queue = list(expert.predict_chunk({STATE: q, ENV_STATE: np.array([*state.object_pos, *state.target_pos,
                                                                              float(state.grasped)])}))
        world.set_goal(queue.pop(0), t)
        t += 1 / fps
    status = world.task_status()
    assert status["attempts"] == 1 and status["successes"] == 1 and status["scene"] == 1
