"""Pre-opened encoders: episodes start without opening a codec, spares open only in the quiet window."""

from __future__ import annotations

import threading
import time

from rec_helpers import frame, make_spec, record, small_layout
from rollout_console.recording import verify_dataset
from rollout_console.recording.camera_worker import SPARE_DELAY_S
from rollout_console.recording.layout import SPARE_DIR, STATE_DIR


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    return predicate()


def test_episodes_take_preopened_encoders_opened_after_the_delay_and_through_the_gate(tmp_path, open_recorder):
    layout = small_layout()
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout))
    workers = list(recorder._cams.values())
    spare_dir = root / STATE_DIR / "staging" / SPARE_DIR
    # without a gate (no control loop yet) every worker opens its first spare at once
    assert _wait_for(lambda: all(w._spare is not None for w in workers))
    assert len(list(spare_dir.iterdir())) == 0  # an unstarted MP4 has not written its file yet

    gate_calls: list[tuple[float, str]] = []
    inside = threading.Semaphore(0)

    def gate() -> None:
        gate_calls.append((time.monotonic(), threading.current_thread().name))
        inside.release()

    recorder.set_tick_gate(gate)
    started = time.monotonic()
    recorder.start_episode("first")
    for i in range(6):
        recorder.add_frame(frame(layout, 0, i))
    # each worker gives its spare to the episode and opens the next one only after SPARE_DELAY_S
    assert _wait_for(lambda: all(w.spares_used == 1 for w in workers))
    assert _wait_for(lambda: all(w._spare is not None for w in workers))
    assert len(gate_calls) == len(workers)  # one gate pass per spare, all on the opener thread
    assert {name for _, name in gate_calls} == {"recorder-opener"}
    assert min(t for t, _ in gate_calls) >= started + SPARE_DELAY_S - 0.05
    assert all(w.spares_used == 1 for w in workers)
    first = recorder.save_episode().result(timeout=60)

    infos = record(recorder, layout, [5], task="second", first_episode=1)
    assert [first.index, infos[0].index] == [0, 1]
    assert all(w.spares_used == 2 for w in workers)
    report = verify_dataset(root)
    assert report.ok, report.summary()

    assert recorder.close(timeout=30)
    staging = root / STATE_DIR / "staging"
    assert list(staging.iterdir()) == []  # spares are released with their directory


def test_a_failing_spare_falls_back_to_opening_at_start(tmp_path, open_recorder):
    layout = small_layout(cameras=("front",))
    root = tmp_path / "ds"
    recorder = open_recorder(make_spec(root, layout=layout))
    worker = next(iter(recorder._cams.values()))
    assert _wait_for(lambda: worker._spare is not None)

    failures: list[float] = []

    def broken_gate() -> None:
        failures.append(time.monotonic())
        raise RuntimeError("gate failed")

    recorder.set_tick_gate(broken_gate)
    recorder.start_episode("takes the spare")
    for i in range(4):
        recorder.add_frame(frame(layout, 0, i))
    assert _wait_for(lambda: worker.spares_used == 1)
    assert _wait_for(lambda: len(failures) == 1)  # the next spare could not be opened ...
    time.sleep(0.2)
    assert len(failures) == 1 and worker._spare is None  # ... and is not retried in a loop
    recorder.save_episode().result(timeout=60)
    infos = record(recorder, layout, [4], first_episode=1)  # so this episode opens its own encoder
    assert infos[0].length == 4
    assert worker.spares_used == 1
    assert verify_dataset(root).ok


def test_the_opener_keeps_normal_priority_and_lowers_the_codec_threads_it_creates(tmp_path, open_recorder):
    import os

    from rollout_console.recording.encoder_opener import THREAD_NAME

    layout = small_layout(cameras=("front",))
    recorder = open_recorder(make_spec(tmp_path / "ds", layout=layout))  # VideoSettings(threads=1), nice 10
    opener = recorder._opener
    worker = next(iter(recorder._cams.values()))
    assert _wait_for(lambda: worker._spare is not None)
    recorder.start_episode("t")  # takes the first spare; the opener then opens the next one
    recorder.add_frame(frame(layout, 0, 0))
    assert _wait_for(lambda: opener.opened >= 2)

    def named(tid: str) -> bool:
        try:
            with open(f"/proc/self/task/{tid}/comm") as handle:
                return handle.read().strip() == THREAD_NAME
        except OSError:
            return False

    opener_tid = opener._thread.native_id
    codec_threads = [int(t) for t in os.listdir("/proc/self/task") if named(t) and int(t) != opener_tid]
    assert codec_threads, "the codec's threads should carry the opener's name"
    assert os.getpriority(os.PRIO_PROCESS, opener_tid) == os.getpriority(os.PRIO_PROCESS, 0)
    assert all(os.getpriority(os.PRIO_PROCESS, t) >= worker.settings.nice for t in codec_threads)
    recorder.save_episode().result(timeout=60)
