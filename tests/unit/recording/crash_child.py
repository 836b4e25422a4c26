"""Child process for the kill -9 tests: records episodes forever and reports each durable save.

    python crash_child.py <root> <seed>

Prints ``SAVING <n> <frames>`` when it asks for a save and ``SAVED <index> <frames>`` when the save's
Future resolves (durable), flushing each line, while it keeps recording the next episode. The parent
kills it with SIGKILL at a random moment and checks that every SAVED episode survived.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rec_helpers import frame, make_spec, small_layout
from rollout_console.recording import EpisodeRecorder

_print_lock = threading.Lock()


def say(*parts: object) -> None:
    with _print_lock:
        sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
        sys.stdout.flush()


def main() -> None:
    root = Path(sys.argv[1])
    rng = np.random.default_rng(int(sys.argv[2]))
    layout = small_layout()
    spec = make_spec(root, layout=layout)
    resume = (root / "meta" / "info.json").exists()
    recorder = EpisodeRecorder.open(spec, resume)
    say("READY", len(recorder.episodes()))
    n = 0
    while True:
        length = int(rng.integers(3, 25))
        recorder.start_episode(f"task {n % 3}")
        for i in range(length):
            recorder.add_frame(frame(layout, n, i, None))
            time.sleep(0.002)
        say("SAVING", n, length)
        future = recorder.save_episode({"outcome": "success" if n % 2 else None})
        future.add_done_callback(lambda f: say("SAVED", f.result().index, f.result().length)
                                 if f.exception() is None else say("FAILED", f.exception()))
        n += 1


if __name__ == "__main__":
    main()
