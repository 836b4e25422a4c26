"""Inference benchmark: sync vs naive async vs RTC with the builtin flow policy in the sim.

    python benchmarks/inference.py [--quick] [--episodes=20] [--latencies=0,100,200,400] [--fps=30]

For each artificial latency (``SlowedPolicy`` sleeps on top of the real model time) and each engine it
runs ``--episodes`` sim episodes and prints one row: success rate, starved ticks, loop stall time,
missed deadlines, chunk-boundary jump p99/max (joint units: degrees, gripper 0..100), the median
per-step change of the executed actions, and the jump-to-step ratio; then RTC's ratios to the others.
It prints figures, it does not pass or fail.

The control loop is real time: each episode is a compact paced loop at ``--fps`` on absolute deadlines
(missed deadlines are skipped, as the console's ControlLoop does) that reads the SimWorld, calls
``engine.next_action`` and ``world.set_goal``; the world's clock is ``time.perf_counter``, so the arm
keeps moving (toward its last goal) while a sync engine blocks the loop, exactly as a real robot
would. Inference latency is real too (``SlowedPolicy`` sleeps on top of the model's own time, the
GIL is free). To fit in minutes, episodes run in ``--parallel`` worker processes (default 4), each one
behaving like one console process (its own GIL, loop thread and inference thread, one torch thread,
model warmed up); the episodes of the three engines at one latency are interleaved so they share the
same machine load. A virtual clock was not used because the point is how real threads, real latency
and a real-time loop interact (stalls, starvation, splices); the price is timing noise on a shared
machine, so compare engines within one run.

Engines: ``sync`` (chunk queue, ``--sync_n_action_steps`` actions per chunk; default 20, the same
replanning cadence as the async engines' queue threshold 30 of 50), ``naive`` (``--inference.type=rtc
--inference.rtc.guidance=false``: switch to the new chunk unguided, splice by consumed count) and
``rtc`` (guided with the true VJP, LeRobot defaults unless overridden: LINEAR, execution horizon 10,
beta 10). Optional extra rows: ``rtc_jf`` (the same with ``--policy.jacobian_free=true``, LeRobot's
identity-Jacobian guidance) and ``rtc_exp`` (the paper's EXP soft mask over the whole overlap, i.e.
``--inference.rtc.execution_horizon`` = the queue threshold).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

try:
    import rollout_console  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

import torch

from rollout_console.features import ENV_STATE, STATE
from rollout_console.hardware.sim.world import SimWorld
from rollout_console.inference.rtc import RTCInferenceEngine
from rollout_console.inference.sync import SyncInferenceEngine
from rollout_console.policies.flow.policy import FlowPolicy, load_net
from rollout_console.policies.latency import SlowedPolicy

__all__ = ["main"]

ENGINES = ("sync", "naive", "rtc", "rtc_jf", "rtc_exp")
DEFAULT_ENGINES = ("sync", "naive", "rtc")


@dataclass
class EpisodeResult:
    success: bool
    time_s: float
    ticks: int
    starved: int
    waiting: int
    stall_s: float
    stall_max_s: float
    missed_deadlines: int
    lateness_s: list[float]
    jumps: list[float]
    steps: list[float]
    latency_s: list[float]
    delay_ticks: int
    arm_jumps: list[float] = field(default_factory=list)
    arm_steps: list[float] = field(default_factory=list)
    grip_jumps: list[float] = field(default_factory=list)
    seam_accel: list[float] = field(default_factory=list)
    interior_accel: list[float] = field(default_factory=list)


@dataclass
class Cell:
    latency_ms: float
    engine: str
    episodes: list[EpisodeResult] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        eps = self.episodes

        def pooled(name: str) -> np.ndarray:
            parts = [getattr(e, name) for e in eps if getattr(e, name)]
            return np.concatenate(parts) if parts else np.zeros(1)

        def p(values: np.ndarray, q: float) -> float:
            return float(np.percentile(values, q))

        jumps, steps, lat, late = pooled("jumps"), pooled("steps"), pooled("latency_s"), pooled("lateness_s")
        arm_jumps, arm_steps = pooled("arm_jumps"), pooled("arm_steps")
        solved = [e.time_s for e in eps if e.success]
        step_p50, arm_step_p50 = p(steps, 50), p(arm_steps, 50)
        return {
            "success": sum(e.success for e in eps) / len(eps),
            "time_s": float(np.mean(solved)) if solved else math.nan,
            "starved": float(sum(e.starved for e in eps)),
            "waiting": float(np.mean([e.waiting for e in eps])),
            "stall_s_per_ep": float(np.mean([e.stall_s for e in eps])),
            "stall_max_ms": 1000 * max(e.stall_max_s for e in eps),
            "missed": float(sum(e.missed_deadlines for e in eps)),
            "late_p99_ms": 1000 * p(late, 99),
            "latency_p50_ms": 1000 * p(lat, 50),
            "delay_ticks": float(max(e.delay_ticks for e in eps)),
            "jump_p99": p(jumps, 99), "jump_max": float(jumps.max()), "step_p50": step_p50,
            "ratio": p(jumps, 99) / step_p50 if step_p50 > 0 else math.inf,
            "arm_jump_p99": p(arm_jumps, 99), "arm_jump_max": float(arm_jumps.max()), "arm_step_p50": arm_step_p50,
            "arm_step_p99": p(arm_steps, 99),
            "arm_ratio": p(arm_jumps, 99) / arm_step_p50 if arm_step_p50 > 0 else math.inf,
            "grip_jump_p99": p(pooled("grip_jumps"), 99),
            "seam_accel_p99": p(pooled("seam_accel"), 99), "interior_accel_p99": p(pooled("interior_accel"), 99),
        }


def make_engine(kind: str, policy: object, args: argparse.Namespace) -> SyncInferenceEngine | RTCInferenceEngine:
    if kind == "sync":
        return SyncInferenceEngine(policy, args.sync_n_action_steps)  # type: ignore[arg-type]
    if kind == "rtc_exp":  # the paper's soft mask over the whole overlap (end = H - s_min = queue threshold)
        return RTCInferenceEngine(
            policy, fps=args.fps, queue_threshold=args.queue_threshold, guidance=True,  # type: ignore[arg-type]
            execution_horizon=args.queue_threshold, max_guidance_weight=args.max_guidance_weight,
            prefix_attention_schedule="EXP",
        )
    return RTCInferenceEngine(
        policy, fps=args.fps, queue_threshold=args.queue_threshold, guidance=(kind != "naive"),  # type: ignore[arg-type]
        execution_horizon=args.execution_horizon, max_guidance_weight=args.max_guidance_weight,
        prefix_attention_schedule=args.schedule,
    )


def run_episode(kind: str, policy: FlowPolicy, latency_ms: float, seed: int, args: argparse.Namespace) -> EpisodeResult:
    engine = make_engine(kind, SlowedPolicy(policy, latency_ms), args)
    engine.start()
    clock = time.perf_counter
    period = 1.0 / args.fps
    try:
        world = SimWorld(seed=seed, start_time=clock(), reset_after_success_s=0.0)
        start = deadline = clock()
        stall = stall_max = 0.0
        missed = 0
        lateness: list[float] = []
        executed: list[np.ndarray] = []
        boundary: list[bool] = []
        success = False
        ticks = 0
        max_ticks = int(args.max_episode_s * args.fps)
        while ticks < max_ticks:
            wake = clock()
            lateness.append(max(0.0, wake - deadline))
            q = world.read_joints(wake)
            snap = world.snapshot()
            if snap.success:
                success = True
                break
            frame = {STATE: q.astype(np.float32), "task": "",
                     ENV_STATE: np.array([*snap.object_pos, *snap.target_pos, float(snap.grasped)], np.float32)}
            chunks_before = engine.metrics.chunks_started
            called = clock()
            action = engine.next_action(frame)
            blocked = clock() - called
            if action is not None:
                executed.append(action)
                boundary.append(engine.metrics.chunks_started > chunks_before)
            if blocked > 0.002:  # the loop was held up by inference (the sync engine's stall)
                stall += blocked
                stall_max = max(stall_max, blocked)
            if action is not None:
                world.set_goal(action, clock())
            ticks += 1
            deadline += period
            end = clock()
            if end > deadline:  # skip missed deadlines rather than replaying them
                skipped = math.floor((end - deadline) / period)
                missed += skipped
                deadline += skipped * period
            time.sleep(max(0.0, deadline - clock()))
        elapsed = clock() - start
        status = engine.status()
        metrics = engine.metrics
        return EpisodeResult(
            success=success, time_s=elapsed, ticks=ticks, starved=metrics.starved_ticks,
            waiting=metrics.waiting_ticks, stall_s=stall, stall_max_s=stall_max, missed_deadlines=missed,
            lateness_s=lateness, jumps=[float(v) for v in metrics.boundary_jump.values()],
            steps=[float(v) for v in metrics.step_change.values()],
            latency_s=[float(v) for v in metrics.latency_s.values()],
            delay_ticks=int(status.get("delay_ticks", 0)),
            **smoothness(np.array(executed), np.array(boundary, dtype=bool), args.arm_joints),
        )
    finally:
        engine.stop()


def smoothness(actions: np.ndarray, boundary: np.ndarray, arm: int) -> dict[str, list[float]]:
    """Per-joint-group jumps at chunk boundaries vs ordinary steps, and the second difference
    (acceleration, the paper's jerk proxy) at splices vs inside chunks. Arm joints are degrees; the
    gripper (0..100) is reported apart because it legitimately moves ~5 units per tick."""
    if len(actions) < 3:
        return {}
    diff = np.abs(np.diff(actions, axis=0))
    at_boundary = boundary[1:]
    accel = np.abs(actions[2:] - 2 * actions[1:-1] + actions[:-2])[:, :arm].max(axis=1)
    accel_boundary = boundary[2:]
    return {
        "arm_jumps": diff[at_boundary, :arm].max(axis=1).tolist(),
        "arm_steps": diff[~at_boundary, :arm].max(axis=1).tolist(),
        "grip_jumps": diff[at_boundary, arm:].max(axis=1).tolist() if actions.shape[1] > arm else [],
        "seam_accel": accel[accel_boundary].tolist(),
        "interior_accel": accel[~accel_boundary].tolist(),
    }


# ----------------------------------------------------------------------------- worker processes

_NET: object | None = None


def _worker_init(policy_path: str, args: argparse.Namespace) -> None:
    """Each worker process is one console: its own GIL, one torch thread, a warmed-up model."""
    global _NET
    torch.set_num_threads(1)
    sys.setswitchinterval(0.0005)
    _NET = load_net(policy_path)
    policy = _policy(0, args)
    world = SimWorld(seed=0, start_time=0.0)
    frame = {STATE: world.read_joints(0.0).astype(np.float32), ENV_STATE: np.zeros(6, np.float32), "task": ""}
    chunk = policy.predict_chunk(frame)
    policy.predict_chunk_guided(frame, chunk[:20], 3, 10, "LINEAR", 10.0)


def _policy(seed: int, args: argparse.Namespace, jacobian_free: bool = False) -> FlowPolicy:
    assert _NET is not None
    return FlowPolicy(_NET, seed=seed, prior_std=args.prior_std, jacobian_free=jacobian_free)  # type: ignore[arg-type]


def _run_task(kind: str, latency_ms: float, episode: int, args: argparse.Namespace) -> dict:
    policy = _policy(args.seed + episode, args, jacobian_free=(kind == "rtc_jf"))
    result = run_episode(kind, policy, latency_ms, args.seed + 1000 + episode, args)
    return asdict(result)


def run_latency(latency_ms: float, engines: list[str], pool: ProcessPoolExecutor, args: argparse.Namespace) -> list[Cell]:
    """All engines' episodes at one latency, interleaved so every engine sees the same machine load."""
    cells = {kind: Cell(latency_ms, kind) for kind in engines}
    futures = {pool.submit(_run_task, kind, latency_ms, episode, args): kind
               for episode in range(args.episodes) for kind in engines}
    for future, kind in futures.items():
        cells[kind].episodes.append(EpisodeResult(**future.result()))
    return [cells[kind] for kind in engines]


def _fmt(value: float, digits: int = 2) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def print_table(cells: list[Cell]) -> None:
    print("Timing (starved: ticks without an action after the first chunk; wait: ticks before the first chunk "
          "per episode;\nstall: time the loop was blocked inside next_action; missed: skipped loop deadlines)")
    header = (f"{'lat ms':>6} {'engine':>7} {'success':>7} {'t_ok s':>6} {'starved':>7} {'wait':>5} "
              f"{'stall s/ep':>10} {'stall max':>9} {'missed':>6} {'late p99':>8} {'inf p50':>7} {'d':>3}")
    print(header)
    print("-" * len(header))
    for cell in cells:
        f = cell.figures()
        print(f"{cell.latency_ms:>6.0f} {cell.engine:>7} {100 * f['success']:>6.0f}% {_fmt(f['time_s']):>6} "
              f"{f['starved']:>7.0f} {f['waiting']:>5.1f} {f['stall_s_per_ep']:>10.2f} {f['stall_max_ms']:>7.0f}ms "
              f"{f['missed']:>6.0f} {f['late_p99_ms']:>6.1f}ms {f['latency_p50_ms']:>5.0f}ms {f['delay_ticks']:>3.0f}")
    print("\nSmoothness (jump: change from the last executed action to the first one of a new chunk; step: "
          "ordinary per-tick change;\nall = max over the 6 joints incl. the gripper (0..100), arm = the 5 arm "
          "joints in degrees; accel = |second difference| of the arm at splices vs inside chunks)")
    header = (f"{'lat ms':>6} {'engine':>7} | {'jump p99':>8} {'max':>6} {'step p50':>8} {'p99/step':>8} | "
              f"{'arm p99':>7} {'max':>6} {'step p50':>8} {'p99/step':>8} {'step p99':>8} | {'grip p99':>8} | "
              f"{'accel seam p99':>14} {'interior p99':>12}")
    print(header)
    print("-" * len(header))
    for cell in cells:
        f = cell.figures()
        print(f"{cell.latency_ms:>6.0f} {cell.engine:>7} | {_fmt(f['jump_p99']):>8} {_fmt(f['jump_max'], 1):>6} "
              f"{_fmt(f['step_p50'], 3):>8} {_fmt(f['ratio']):>8} | {_fmt(f['arm_jump_p99']):>7} "
              f"{_fmt(f['arm_jump_max'], 1):>6} {_fmt(f['arm_step_p50'], 3):>8} {_fmt(f['arm_ratio']):>8} "
              f"{_fmt(f['arm_step_p99']):>8} | "
              f"{_fmt(f['grip_jump_p99']):>8} | {_fmt(f['seam_accel_p99']):>14} {_fmt(f['interior_accel_p99']):>12}")


def print_ratios(cells: list[Cell]) -> None:
    by_key = {(c.latency_ms, c.engine): c.figures() for c in cells}
    latencies = sorted({c.latency_ms for c in cells})
    print("\nRTC against the others (targets: 0 starved ticks; jump p99 <= 2 x median step)")
    for latency in latencies:
        for name in ("rtc", "rtc_jf", "rtc_exp"):
            rtc = by_key.get((latency, name))
            if rtc is None:
                continue
            parts = [f"{latency:>4.0f} ms {name}: starved {rtc['starved']:.0f}, jump p99 = {_fmt(rtc['ratio'])} x "
                     f"median step (arm {_fmt(rtc['arm_ratio'])} x)"]
            for other in ("sync", "naive"):
                f = by_key.get((latency, other))
                if f is None:
                    continue
                ratio = rtc["jump_p99"] / f["jump_p99"] if f["jump_p99"] > 0 else math.inf
                arm = rtc["arm_jump_p99"] / f["arm_jump_p99"] if f["arm_jump_p99"] > 0 else math.inf
                parts.append(f"vs {other}: jump p99 x{_fmt(ratio)} (arm x{_fmt(arm)}), starved {f['starved']:.0f}, "
                             f"stall {f['stall_s_per_ep']:.2f} s/ep, success {100 * f['success']:.0f}% "
                             f"(rtc {100 * rtc['success']:.0f}%)")
            print("; ".join(parts))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks/inference.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 episodes per cell, latencies 0,200,400")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--latencies", default="0,100,200,400", help="artificial latencies in ms, comma separated")
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES),
                        help=f"comma separated, from {', '.join(ENGINES)} (rtc_jf: Jacobian-free guidance, "
                        "--policy.jacobian_free=true; rtc_exp: EXP mask up to the queue threshold)")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--policy", default="builtin:sim_flow", help="flow checkpoint directory or builtin:NAME")
    parser.add_argument("--parallel", type=int, default=4, help="worker processes (episodes run concurrently)")
    parser.add_argument("--max_episode_s", type=float, default=20.0)
    parser.add_argument("--sync_n_action_steps", type=int, default=20)
    parser.add_argument("--queue_threshold", type=int, default=30)
    parser.add_argument("--execution_horizon", type=int, default=10)
    parser.add_argument("--max_guidance_weight", type=float, default=10.0)
    parser.add_argument("--schedule", default="LINEAR")
    parser.add_argument("--prior_std", type=float, default=1.0, help="guidance prior width (--policy.guidance_prior_std)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arm_joints", type=int, default=5, help="leading action dims that are arm joints (degrees)")
    args = parser.parse_args(argv)
    if args.quick:
        args.episodes = min(args.episodes, 6)
        args.latencies = "0,200,400" if args.latencies == "0,100,200,400" else args.latencies
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    net = load_net(args.policy)
    latencies = [float(v) for v in args.latencies.split(",") if v.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        print(f"unknown engines {sorted(unknown)} (use {', '.join(ENGINES)})", file=sys.stderr)
        return 2
    print(f"policy {args.policy}: H={net.config.chunk_size}, {net.config.num_inference_steps} Euler steps; "
          f"{args.fps:g} Hz; {args.episodes} episodes per cell, {args.parallel} at a time; "
          f"sync n_action_steps={args.sync_n_action_steps}; async queue_threshold={args.queue_threshold}; "
          f"rtc {args.schedule}, execution_horizon={args.execution_horizon}, beta={args.max_guidance_weight:g}",
          flush=True)
    started = time.perf_counter()
    cells: list[Cell] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.parallel, mp_context=context, initializer=_worker_init,
                             initargs=(args.policy, args)) as pool:
        for latency in latencies:
            latency_started = time.perf_counter()
            cells.extend(run_latency(latency, engines, pool, args))
            print(f"  {latency:>4.0f} ms done in {time.perf_counter() - latency_started:5.1f} s", flush=True)
    print()
    print_table(cells)
    print_ratios(cells)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
