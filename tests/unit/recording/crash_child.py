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
from rollout_console.errors import RecordingError
from rollout_console.recording import EpisodeRecorder

FRAME_PERIOD_S = 1 / 30
_print_lock = threading.Lock()


def say(*parts: object) -> None:
    with _print_lock:
        sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
        sys.stdout.flush()


def main() -> None:
    root = Path(sys.argv[1])
    rng = np.random.default_rng(int(sys.argv[2]))
    layout = small_layout()
    # frames at a real control rate with a generous backlog limit: the encoders keep up even on a loaded
    # machine, and if they ever do not, a backlog cut is the recorder's documented answer, not a crash
    spec = make_spec(root, layout=layout, max_encoder_backlog_s=30.0)
    resume = (root / "meta" / "info.json").exists()
    recorder = EpisodeRecorder.open(spec, resume)
    say("READY", len(recorder.episodes()))
    n = 0
    while True:
        length = int(rng.integers(3, 25))
        recorder.start_episode(f"task {n % 3}")
        for i in range(length):
            recorder.add_frame(frame(layout, n, i, None))
            time.sleep(FRAME_PERIOD_S)
        say("SAVING", n, length)
        try:
            future = recorder.save_episode({"outcome": "success" if n % 2 else None})
        except RecordingError as exc:  # a backlog cut left nothing to save: go on with the next episode
            say("NOTHING", n, exc)
            n += 1
            continue
        future.add_done_callback(lambda f: say("SAVED", f.result().index, f.result().length)
                                 if f.exception() is None else say("FAILED", f.exception()))
        n += 1


if __name__ == "__main__":
    main()
