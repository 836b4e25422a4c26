"""The first episode of a session imports nothing: a lazy import on the saver or a camera worker holds the
GIL in pieces while the control loop runs (pyarrow.compute and numpy.ma did, for ~0.2 s at the first save).

Checked in a fresh interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SCRIPT = """
import json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, {here!r})
from rec_helpers import frame, make_spec, small_layout
from rollout_console.recording import EpisodeRecorder, FrameRing

layout = small_layout()
recorder = EpisodeRecorder.create(make_spec(Path(tempfile.mkdtemp()) / "ds", layout=layout))
ring = FrameRing(10, 30, 1 << 30, jpeg_quality=90)
for i in range(10):
    ring.append(frame(layout, 0, i))
deadline = time.monotonic() + 60
while ring.compressed_frames < 10 and time.monotonic() < deadline:
    time.sleep(0.01)
before = set(sys.modules)
recorder.start_episode("pick", ring.drain())  # a highlight mark: JPEG history decoded and encoded
for i in range(10, 20):
    recorder.add_frame(frame(layout, 0, i))
recorder.save_episode({{"outcome": "success"}}).result(timeout=120)
recorder.start_episode("pick")  # and a plain episode after it
recorder.add_frame(frame(layout, 1, 0))
recorder.save_episode().result(timeout=120)
print(json.dumps(sorted(set(sys.modules) - before)))
recorder.close()
ring.close()
"""


def test_the_first_mark_and_saves_of_a_session_import_no_module() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(here=str(HERE))], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    imported = json.loads(result.stdout.strip().splitlines()[-1])
    assert imported == [], f"imported while recording: {imported}"


def test_a_save_searches_the_import_path_for_nothing(tmp_path, open_recorder, monkeypatch) -> None:
    """pyarrow asks for ``dateutil.relativedelta`` at every Python value it converts; an absent module must
    fail at once, not search sys.path again (~280 times per save, ~100 ms of the saver's CPU, with the GIL)."""
    import importlib.machinery
    import threading

    from rec_helpers import frame, make_spec, small_layout

    layout = small_layout()
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout))
    recorder.start_episode("pick")
    recorder.add_frame(frame(layout, 0, 0))
    recorder.save_episode().result(timeout=60)  # the first save, whatever it may load once
    searches: list[tuple[str, str]] = []
    real_find_spec = importlib.machinery.PathFinder.find_spec.__func__

    def find_spec(cls, fullname, path=None, target=None):  # noqa: ANN001, ANN202
        searches.append((threading.current_thread().name, fullname))
        return real_find_spec(cls, fullname, path, target)

    monkeypatch.setattr(importlib.machinery.PathFinder, "find_spec", classmethod(find_spec))
    for episode in (1, 2):
        recorder.start_episode("pick")
        for i in range(3):
            recorder.add_frame(frame(layout, episode, i))
        recorder.save_episode({"outcome": "success"}).result(timeout=60)
    assert searches == []
