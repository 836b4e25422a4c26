"""Remote inference benchmark: the built-in flow policy served by ``rollout-console serve-policy``.

    python -m benchmarks remote [--quick]

Prints, with the policy server as a real second process on loopback and a fault proxy in between:

1. round trip remote vs local (p50/p99 of one ``predict_chunk``, same model, same observation) with
   2 cameras at 224x224 and at 640x480 (and 640x480 resized client-side to 224), and bytes per
   request / reply;
2. chunk-seam jump remote vs local at 0/100/300 ms added round-trip latency (the proxy adds half each
   way; the local policy sleeps the same), guided RTC and unguided with blended seams;
3. starved ticks over a run at +300 ms (target 0);
4. stall -> hold: the proxy stops forwarding; time until the robot holds and the session pauses, and
   queue empty -> paused in control periods (target <= 2).

Runs on a shared CPU: compare rows within one run. The fault proxy is the tests' (tests/remote_fakes).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # remote_fakes: the fault proxy and server launcher

from remote_fakes.fault_proxy import FaultProxy
from remote_fakes.processes import serve_policy
from rollout_console.config import load_config
from rollout_console.config.policy import FlowPolicyConfig, RemotePolicyConfig
from rollout_console.features import FeatureLayout
from rollout_console.inference.rtc import QueueDryError
from rollout_console.protocol.phases import Phase
from rollout_console.runtime import build_session

from benchmarks.common import header, pct, row

SMALL = ["--robot.camera_width=160", "--robot.camera_height=120", "--return_to_initial_position=false"]


def _frame(width: int, height: int) -> tuple[dict[str, Any], FeatureLayout]:
    from rollout_console.config.hardware import SimRobotConfig
    from rollout_console.hardware.sim.robot import SimRobot

    robot = SimRobot(SimRobotConfig(cameras=["front", "top"], camera_width=width, camera_height=height))
    robot.connect()
    try:
        layout = FeatureLayout.from_robot(robot.observation_features, robot.action_features)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            raw = robot.get_observation()
            if all(name in raw for name in layout.camera_names):
                return layout.policy_observation(raw, "pick the cube"), layout
            time.sleep(0.05)
        raise RuntimeError("sim cameras gave no frame")
    finally:
        robot.disconnect()


def _time_interleaved(calls: Sequence[Any], n: int) -> list[list[float]]:
    """Milliseconds per call for each callable, alternating them so they share the machine's load."""
    for call in calls:
        call()  # warm
    out: list[list[float]] = [[] for _ in calls]
    for _ in range(n):
        for times, call in zip(out, calls, strict=True):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000.0)
    return out


def round_trips(url: str, n: int) -> None:
    from rollout_console.policies.registry import make_policy

    header(f"round trip remote vs local, builtin:sim_flow, 2 cameras ({n} calls each, ms)")
    for width, height, resize in ((224, 224, None), (640, 480, None), (640, 480, 224)):
        frame, layout = _frame(width, height)
        local = make_policy(FlowPolicyConfig(), layout, 30.0)
        remote = make_policy(RemotePolicyConfig(url=url, image_size=resize), layout, 30.0)
        try:
            local_ms, remote_ms = _time_interleaved(
                [lambda: local.predict_chunk(frame), lambda: remote.predict_chunk(frame)], n)
            link = remote.link
            l50, l99 = pct(local_ms, 50, 99)
            r50, r99 = pct(remote_ms, 50, 99)
            label = f"{width}x{height}" + (f" -> {resize}x{resize}" if resize else "")
            row(label, local_p50=l50, local_p99=l99, remote_p50=r50, remote_p99=r99,
                overhead_p50=r50 - l50, overhead_p99=r99 - l99,
                request_bytes=link.bytes_sent, reply_bytes=link.bytes_received)
        finally:
            remote.close()


def _run(flags: Sequence[str], seconds: float, proxy: FaultProxy | None = None) -> dict[str, Any]:
    session = build_session(load_config([*SMALL, *flags]))
    session.start()
    try:
        deadline = time.monotonic() + 60
        while session.status()["inference"]["inferences"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(seconds)  # a benchmark measures over wall-clock time; tests never do this
        status = session.status()
        return {"inference": status["inference"], "phase": status["phase"], "notice": status["notice"],
                "loop": status["loop"]}
    finally:
        session.shutdown()


def seams(url: str, proxy: FaultProxy, seconds: float) -> None:
    header(f"chunk-seam jump remote vs local at added latency ({seconds:.0f} s runs; joint units)")
    _run(["--policy.path=builtin:sim_flow", "--inference.type=rtc"], 1.0)  # warm the local model (discarded)
    for latency_ms in (0, 100, 300):
        proxy.latency_s = latency_ms / 2000.0  # half each way = the round trip added
        for mode, extra_remote, extra_local in (
            ("guided", [], []),
            ("blend", ["--inference.rtc.guidance=false"], ["--inference.rtc.guidance=false",
                                                           "--inference.rtc.splice=blend"]),
        ):
            remote = _run(["--policy.type=remote", f"--policy.url={proxy.url}", *extra_remote], seconds)
            local = _run(["--policy.path=builtin:sim_flow", "--inference.type=rtc",
                          f"--inference.simulated_latency_ms={latency_ms}", *extra_local], seconds)
            for where, result in (("remote", remote), ("local", local)):
                inf = result["inference"]
                jump = inf["boundary_jump"]
                row(f"+{latency_ms} ms {mode:<6} {where}", seam_p99=jump["p99"] or 0.0, seam_max=jump["max"] or 0.0,
                    step_p50=inf["step_change_p50"] or 0.0, starved=inf["starved_ticks"],
                    latency_p50=inf["latency_ms"]["p50"] or 0.0, phase=result["phase"],
                    **({"notice": result["notice"]} if result["notice"] else {}))
    proxy.latency_s = 0.0


def starvation(proxy: FaultProxy, seconds: float) -> None:
    header(f"starved ticks at +300 ms round trip, default engine settings ({seconds:.0f} s, target 0)")
    proxy.latency_s, proxy.jitter_s = 0.15, 0.02
    result = _run(["--policy.type=remote", f"--policy.url={proxy.url}"], seconds)
    inf = result["inference"]
    row("remote +300 ms (+-40 ms jitter)", starved=inf["starved_ticks"], phase=result["phase"],
        connection=inf["connection"]["state"], latency_p50=inf["latency_ms"]["p50"] or 0.0,
        stale_skipped=inf["stale_skipped"], lateness_max_ms=inf["action_lateness_ms_max"],
        loop_skipped_deadlines=result["loop"].get("skipped_deadlines"),
        loop_lateness_max_ms=(result["loop"].get("lateness_ms") or {}).get("max"))
    proxy.latency_s = proxy.jitter_s = 0.0


def stall_to_hold(proxy: FaultProxy, trials: int) -> None:
    header(f"stall -> hold ({trials} trials): proxy stops forwarding mid-run")
    for trial in range(trials):
        proxy.unstall()
        session = build_session(load_config([*SMALL, "--policy.type=remote", f"--policy.url={proxy.url}",
                                             "--policy.request_timeout_s=30"]))
        engine = session.ctx.engine
        marks: dict[str, float] = {}
        inner = engine.next_action

        def watched(observation: dict[str, Any], inner: Any = inner) -> Any:
            try:
                action = inner(observation)
            except QueueDryError:
                now = time.perf_counter()
                marks.setdefault("empty", now)  # emptied by skipping late rows in this very tick
                marks.setdefault("paused", now)
                raise
            chunk = engine._chunk
            if "stall" in marks and chunk is not None and engine._index >= len(chunk):
                marks.setdefault("empty", time.perf_counter())  # the last queued action went out
            return action

        engine.next_action = watched  # type: ignore[method-assign]
        session.start()
        try:
            deadline = time.monotonic() + 60
            while session.status()["inference"]["inferences"] < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            depth = session.status()["inference"]["queue_depth"]
            proxy.stall()
            marks["stall"] = time.perf_counter()
            deadline = time.monotonic() + 30
            while session.phase is not Phase.PAUSED and time.monotonic() < deadline:
                time.sleep(0.01)
            period = 1.0 / session.config.fps
            if "paused" in marks and "empty" in marks:
                row(f"trial {trial + 1}", queue_at_stall=depth, stall_to_hold_ms=(marks["paused"] - marks["stall"]) * 1e3,
                    queue_time_ms=depth * period * 1e3,
                    empty_to_paused_periods=(marks["paused"] - marks["empty"]) / period,
                    stale_skipped=session.status()["inference"]["stale_skipped"],
                    notice_names_server=proxy.url in (session.status()["notice"] or ""))
            else:
                row(f"trial {trial + 1}", result="did not pause", marks=sorted(marks))
        finally:
            proxy.unstall()
            session.shutdown()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    calls, seconds, trials = (30, 5.0, 2) if args.quick else (100, 12.0, 3)
    with serve_policy() as server:
        round_trips(server.url, calls)
        proxy = FaultProxy(("127.0.0.1", server.port))
        try:
            starvation(proxy, seconds * 2)
            stall_to_hold(proxy, trials)
            seams(server.url, proxy, seconds)
        finally:
            proxy.close()


if __name__ == "__main__":
    main(sys.argv[1:])
