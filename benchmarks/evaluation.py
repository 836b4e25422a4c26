"""The sim evaluation demo as a figure: builtin:sim_flow against the scripted expert, unattended.

40 episodes (10 with --quick) of the built-in sim task, assigned in a balanced random order, each after
a reset (home, re-seeded scene), ended on success or after --episode-time-s, labelled by the sim's own
success detector. Prints each policy's success rate with its Wilson 95 % interval, the times to success,
the comparison in words, the wall time per episode (resets included) and the control loop's health.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from .common import console, header, row


def run(episodes: int, episode_time_s: float, reset_time_s: float, inference: str, record: bool) -> dict:
    out = Path(tempfile.mkdtemp(prefix="rc-eval-bench-"))
    # the engine choice applies to sim_flow; the scripted expert cannot be guided and always runs sync
    policies = f'[{{path: "builtin:sim_flow", inference: {{type: {inference}}}}}, {{type: scripted, inference: {{type: sync}}}}]'
    flags = ["--strategy.type=episodic", f"--strategy.policies={policies}", f"--strategy.num_episodes={episodes}", f"--strategy.episode_time_s={episode_time_s}",
             f"--strategy.reset_time_s={reset_time_s}", f"--strategy.output_dir={out / 'results'}",
             "--strategy.seed=0", "--return_duration_s=1.5"]
    if record:
        flags += ["--dataset.repo_id=bench/eval", f"--dataset.root={out / 'dataset'}", "--dataset.push_to_hub=false",
                  "--dataset.stamp_repo_id=false"]
    with console(*flags) as url, httpx.Client(base_url=url, timeout=10) as client:
        started = time.monotonic()
        first_episode = None
        while True:
            status = client.get("/api/v1/status").json()
            if first_episode is None and status["phase"] == "autonomous":
                first_episode = time.monotonic()
            if status["phase"] in ("stopped", "error"):
                break
            time.sleep(0.5)
        wall_s = time.monotonic() - (first_episode or started)
        report = client.get("/api/v1/evaluation").json()
        loop = status["loop"]
    report["_wall_s"] = wall_s
    report["_loop"] = loop
    report["_results"] = str(out / "results" / "results.json")
    return report


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10 episodes instead of 40")
    parser.add_argument("--episodes", type=int, default=None)
    parser.add_argument("--episode-time-s", type=float, default=20.0)
    parser.add_argument("--reset-time-s", type=float, default=1.0)
    parser.add_argument("--inference", choices=("sync", "rtc"), default="sync", help="sim_flow's engine")
    parser.add_argument("--record", action="store_true", help="also record a LeRobotDataset")
    parser.add_argument("--json", type=Path, default=None, help="write the report here too")
    args = parser.parse_args(list(argv or []))
    episodes = args.episodes or (10 if args.quick else 40)
    header(f"evaluation: builtin:sim_flow vs scripted expert, {episodes} episodes, {args.inference} inference, "
           f"episode <= {args.episode_time_s:g} s, reset countdown {args.reset_time_s:g} s")
    report = run(episodes, args.episode_time_s, args.reset_time_s, args.inference, args.record)
    for policy in report["policies"]:
        ci = policy["ci95"] or [float("nan"), float("nan")]
        row(policy["name"], successes=f"{policy['successes']}/{policy['episodes']}",
            rate=f"{100 * (policy['success_rate'] or 0):.0f}%", ci95=f"[{100 * ci[0]:.0f}%, {100 * ci[1]:.0f}%]",
            tts_mean_s=policy["time_to_success_mean_s"] or float("nan"),
            tts_median_s=policy["time_to_success_median_s"] or float("nan"),
            episode_mean_s=policy["episode_mean_s"] or float("nan"))
    finished = report["finished_episodes"]
    loop = report["_loop"]
    row("time per episode (with reset)", wall_s=report["_wall_s"] / max(1, finished), episodes=finished)
    row("control loop", hz=loop["measured_hz"] or float("nan"), overruns=loop["overruns"],
        late_p99_ms=loop["lateness_ms"]["p99"] or float("nan"))
    print(f"  {report['comparison']['summary']}", flush=True)
    print(f"  results: {report['_results']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
