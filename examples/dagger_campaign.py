"""A labelled DAgger collection campaign, run from a laptop against a console on the robot's PC.

Start the console with a continuous DAgger strategy (every frame recorded, corrections flagged), e.g.

    rollout-console --strategy.type=dagger --strategy.record_autonomous=true \\
        --dataset.repo_id=me/dagger_cube --dataset.push_to_hub=true

then run ``python examples/dagger_campaign.py http://robot-pc:8000 --attempts 20``. For each attempt it
watches the policy; when the attempt is not done after ``--patience`` seconds it pauses, takes over with the
leader arm (the operator corrects), hands back, and saves the episode labelled ``failure``; an attempt the
policy finishes alone is saved as ``success``. At the end it uploads the dataset and waits for the Hub.
Needs only the light client (``pip install ./client``).
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from rollout_console.client import Console, ConsoleError, StatusPublic


def task(status: StatusPublic) -> dict:
    """The sim's (or your detector's) view of the attempt: scene, success, elapsed_s."""
    return status.task or {}


def attempt(console: Console, patience: float, correction_s: float) -> str:
    """One attempt: watch, pause on the condition, correct, label, save. Returns the label."""
    start = console.wait_for("autonomous", timeout=60)
    scene = task(start).get("scene")
    watched = console.wait_for(until=lambda s: task(s).get("success") or task(s).get("elapsed_s", 0) > patience,
                               timeout=patience + 60)
    if task(watched).get("success"):
        console.save(outcome="success")
    else:  # the condition: not done in time -> the operator corrects with the leader arm
        console.pause()
        console.takeover()
        with contextlib.suppress(TimeoutError):  # a correction ends when the task is done or time is up
            console.wait_for(until=lambda s: bool(task(s).get("success")) or task(s).get("scene") != scene,
                             timeout=correction_s)
        console.handback()
        console.save(outcome="failure")
    # after a success the sim starts the next scene a moment later; then hand the robot back to the policy
    console.wait_for(until=lambda s: not task(s).get("success"), timeout=60)
    console.resume()
    return "success" if task(watched).get("success") else "failure"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--token", help="operator token (off loopback)")
    parser.add_argument("--attempts", type=int, default=10)
    parser.add_argument("--patience", type=float, default=8.0, help="seconds before the operator steps in")
    parser.add_argument("--correction-s", type=float, default=60.0, help="longest correction")
    parser.add_argument("--no-upload", action="store_true")
    args = parser.parse_args(argv)
    with Console(args.url, token=args.token, name="dagger-campaign") as console:
        try:
            with console.control(label="DAgger campaign"):
                labels = [attempt(console, args.patience, args.correction_s) for _ in range(args.attempts)]
                print(f"{len(labels)} attempts: {labels.count('success')} success, {labels.count('failure')} failure")
                if not args.no_upload:
                    before = console.status().event_seq
                    console.upload()
                    for event in console.events(since=before, kinds={"upload_done", "upload_failed"}):
                        print(f"upload: {event.kind} {event.data}")
                        return 0 if event.kind == "upload_done" else 1
        except ConsoleError as error:
            print(f"campaign stopped: {type(error).__name__}: {error.reason}", file=sys.stderr)
            return error.exit_status
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
