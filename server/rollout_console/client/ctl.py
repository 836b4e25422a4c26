"""``rollout-ctl URL …`` (also ``rollout-console ctl URL …``): the console from a shell script.

Exit status: 0 applied (a 202 prints the pending detail), 2 bad usage, 3 rejected (409, 422; the reason on
stderr), 4 another client holds control (423), 5 unreachable or not applied (503), 6 not allowed (401, 403).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..protocol.commands import COMMANDS
from .console import Console
from .errors import BadRequest, ConsoleError

__all__ = ["EXIT_BAD_USAGE", "EXIT_FORBIDDEN", "EXIT_LEASE_HELD", "EXIT_OK", "EXIT_REJECTED", "EXIT_UNREACHABLE",
           "build_parser", "main"]

EXIT_OK = 0
EXIT_BAD_USAGE = 2
EXIT_REJECTED = 3
EXIT_LEASE_HELD = 4
EXIT_UNREACHABLE = 5
EXIT_FORBIDDEN = 6
TOKEN_ENV = "ROLLOUT_CONSOLE_TOKEN"

_EPILOG = """exit status: 0 applied (202: applied, outcome pending; the detail is printed), 2 bad usage,
3 rejected (409, 422; reason on stderr), 4 another client holds control (423),
5 unreachable or not applied (503), 6 not allowed (401, 403)"""


def _choices(annotation: Any) -> list[str] | None:
    """The values of a Literal (possibly inside Optional)."""
    if typing.get_origin(annotation) is typing.Literal:
        return [str(value) for value in typing.get_args(annotation)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if (found := _choices(arg)) is not None:
                return found
    return None


def _scalar(annotation: Any) -> type:
    for candidate in (int, float):
        if annotation is candidate or candidate in typing.get_args(annotation):
            return candidate
    return str


def _add_arguments(parser: argparse.ArgumentParser, model: type[BaseModel]) -> None:
    """One ``--option`` per field of the command's argument model (the server's own table)."""
    for field_name, info in model.model_fields.items():
        choices = _choices(info.annotation)
        typed: dict[str, Any] = {"choices": choices} if choices else {"type": _scalar(info.annotation)}
        parser.add_argument(f"--{field_name}", dest=f"arg_{field_name}", required=info.is_required(),
                            help=info.description, **typed)


def build_parser(prog: str = "rollout-ctl") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Control a running rollout-console from a shell.",
                                     epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the console, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV),
                        help=f"operator or viewer token (default: ${TOKEN_ENV})")
    parser.add_argument("--name", help="client id shown in events (default: script-<random>)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of words")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for an answer (default 60)")
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("status", help="the session's status")
    events = sub.add_parser("events", help="print events as they happen (one per line) until interrupted")
    events.add_argument("--since", type=int, help="replay buffered events after this sequence number first")
    events.add_argument("--count", type=int, help="exit after this many events")
    events.add_argument("--kind", action="append", help="only events of this kind (repeatable)")
    for spec in COMMANDS.values():
        _add_arguments(sub.add_parser(spec.name, help=spec.help), spec.args)
    sub.add_parser("episodes", help="saved episodes")
    sub.add_parser("evaluation", help="evaluation results (episodic strategy)")
    sessions = sub.add_parser("sessions", help="start a session, or list past and current ones")
    what = sessions.add_subparsers(dest="sessions_action", required=True, metavar="{start,list}")
    start = what.add_parser("start", help="start a session while the console is idle")
    start.add_argument("--config", required=True, type=Path,
                       help="JSON file with the session part of the config (strategy, policy, dataset, ...)")
    what.add_parser("list", help="past and current sessions, oldest first")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "rollout-ctl") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)  # bad usage exits 2 (argparse)
    try:
        console = Console(args.url, token=args.token, name=args.name, timeout=args.timeout)
    except ValueError as exc:
        parser.error(str(exc))
    out = _Output(args.json, prog)
    try:
        with console:
            return _run(console, args, out)
    except ConsoleError as exc:
        return out.failed(exc)
    except KeyboardInterrupt:
        return 130


def _run(console: Console, args: argparse.Namespace, out: _Output) -> int:
    action = args.action
    if action == "status":
        out.status(console.status())
    elif action == "events":
        shown = 0
        if args.count is not None and args.count <= 0:
            return EXIT_OK
        for event in console.events(since=args.since, kinds=args.kind):
            out.event(event)
            shown += 1
            if args.count is not None and shown >= args.count:
                break
    elif action == "episodes":
        out.rows([episode.model_dump(mode="json") for episode in console.episodes()],
                 lambda e: f"{e['index']:>4}  {e['length']:>5} frames  {e['duration_s']:7.2f} s  "
                           f"outcome={e['extra'].get('outcome')}  uploaded={e['uploaded']}")
    elif action == "evaluation":
        report = console.evaluation()
        out.document(report.model_dump(mode="json"), report.comparison.summary or "no comparison yet")
    elif action == "sessions":
        return _sessions(console, args, out)
    else:
        options = {key[4:]: value for key, value in vars(args).items() if key.startswith("arg_") and value is not None}
        out.reply(console.command(action, **options))
    return EXIT_OK


def _sessions(console: Console, args: argparse.Namespace, out: _Output) -> int:
    if args.sessions_action == "list":
        out.rows([record.model_dump(mode="json") for record in console.sessions()],
                 lambda r: f"{r['id']}  {r['strategy']:<9} episodes={r['episodes_saved']:<4} "
                           f"{'running' if r['current'] else 'ended: ' + str(r['end_cause'])}")
        return EXIT_OK
    try:
        config = json.loads(args.config.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadRequest(f"--config: cannot read {args.config}: {exc.strerror}") from exc
    except ValueError as exc:
        raise BadRequest(f"--config: {args.config} is not JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise BadRequest(f"--config: {args.config} must hold a JSON object")
    record = console.start_session(config)
    out.document(record.model_dump(mode="json"), f"session {record.id} started ({record.strategy})")
    return EXIT_OK


class _Output:
    """Words for people, JSON for programs (``--json``); errors always go to stderr as well."""

    def __init__(self, as_json: bool, prog: str) -> None:
        self.as_json = as_json
        self.prog = prog

    def _print(self, text: str) -> None:
        print(text, flush=True)

    def document(self, data: Any, words: str) -> None:
        self._print(json.dumps(data) if self.as_json else words)

    def rows(self, rows: list[dict[str, Any]], words: Any) -> None:
        if self.as_json:
            self._print(json.dumps(rows))
            return
        for row in rows:
            self._print(words(row))
        if not rows:
            self._print("(none)")

    def reply(self, reply: Any) -> None:
        data = {"name": reply.name, "accepted": True, "phase": str(reply.phase), "detail": reply.detail,
                "outcome": str(reply.outcome), "status": reply.status}
        if self.as_json:
            self._print(json.dumps(data))
        elif reply.pending:
            self._print(f"{reply.name}: applied, outcome pending ({reply.phase}): {reply.detail}")
        else:
            self._print(f"{reply.name}: {reply.phase}" + (f" ({reply.detail})" if reply.detail else ""))

    def event(self, event: Any) -> None:
        if self.as_json:
            self._print(event.model_dump_json())
        else:
            self._print(f"{event.seq:>6} {event.kind:<22} {json.dumps(event.data, sort_keys=True)}")

    def status(self, status: Any) -> None:
        if self.as_json:
            self._print(status.model_dump_json())
            return
        lines = [f"phase      {status.phase}", f"strategy   {status.strategy}", f"session    {status.session_id}"]
        loop, policy = getattr(status, "loop", None), getattr(status, "policy", None)  # null while idle
        if loop is not None:
            lines.append(f"loop       {loop.measured_hz} Hz, {loop.overruns} overruns")
        if policy is not None:
            lines.append(f"policy     {policy.name}")
        lines.append(f"commands   {', '.join(status.available_commands) or '-'}")
        if status.recording is not None:
            lines.append(f"recording  {status.recording.state}, episode {status.recording.episode_index}, "
                         f"{status.recording.frames} frames, {status.recording.episodes} saved")
        holder = (status.lease or {}).get("holder")
        if isinstance(holder, dict):
            lines.append(f"control    {holder.get('label') or holder.get('id')}")
        if status.notice:
            lines.append(f"notice     {status.notice}")
        if status.error:
            lines.append(f"error      {status.error}")
        self._print("\n".join(lines))

    def failed(self, error: ConsoleError) -> int:
        kind = type(error).__name__
        print(f"{self.prog}: {kind}: {error.reason}", file=sys.stderr, flush=True)
        if self.as_json:
            self._print(json.dumps({"error": kind, "status": error.status, "reason": error.reason}))
        return error.exit_status


def entry_point() -> None:
    """The ``rollout-ctl`` console script."""
    raise SystemExit(main())
