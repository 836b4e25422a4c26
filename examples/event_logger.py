"""Log every event of a console as JSON lines, across reconnects and server restarts.

    python examples/event_logger.py http://robot-pc:8000 --out events.jsonl

Each line is one event (``seq``, ``time``, ``kind``, ``data``). After a dropped connection the missed events
are replayed in order; after a server restart a ``resync`` line says so and numbering starts again.
"""

from __future__ import annotations

import argparse
import sys

from rollout_console.client import Console


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Log a console's events as JSON lines.")
    parser.add_argument("url")
    parser.add_argument("--token")
    parser.add_argument("--out", help="append to this file (default: stdout)")
    parser.add_argument("--since", type=int, help="replay buffered events after this sequence number first")
    parser.add_argument("--count", type=int, help="stop after this many lines (default: run until Ctrl-C)")
    args = parser.parse_args(argv)
    out = open(args.out, "a", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    written = 0
    try:
        with Console(args.url, token=args.token, name="event-logger") as console:
            for event in console.events(since=args.since):
                out.write(event.model_dump_json() + "\n")
                out.flush()
                written += 1
                if args.count is not None and written >= args.count:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
