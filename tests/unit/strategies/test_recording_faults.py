"""Recording faults on the loop: a failed save or a refused start pauses the policy (or only says so with
--dataset.on_error=continue); an automatic pause discards a too-short episode; stopped waits for saves."""

from __future__ import annotations

import errno
import time
from concurrent.futures import Future

from rollout_console.recording.disk_space import DiskSpace, episode_bytes_needed
from rollout_console.protocol.commands import Command
from rollout_console.protocol.phases import Phase
from rollout_console.strategies.recording import Recording, explain_failure
from rollout_console.strategies.sentry import SentryStrategy
from strategy_fakes import FakeRecorder, make_context

P = Phase


class FailingRecorder(FakeRecorder):
    """Saves fail like a full disk would, and may stay pending until the test resolves them."""

    def __init__(self, fail: bool = True, hold: bool = False) -> None:
        super().__init__()
        self.fail = fail
        self.hold = hold
        self.held: list[Future] = []
        self.discard_reasons: list[str | None] = []

    def save_episode(self, extra=None):  # type: ignore[no-untyped-def]
        if not self.fail and not self.hold:
            return super().save_episode(extra)
        future: Future = Future()
        self.open, self.frames = False, []
        if self.hold:
            self.pending_saves += 1
            self.held.append(future)
        else:
            future.set_exception(OSError(errno.ENOSPC, "No space left on device"))
        return future

    def release(self) -> None:
        for future in self.held:
            self.pending_saves -= 1
            future.set_exception(OSError(errno.ENOSPC, "No space left on device"))

    def discard_episode(self, reason=None):  # type: ignore[no-untyped-def]
        self.discard_reasons.append(reason)
        return super().discard_episode(reason)


def _sentry(recorder: FakeRecorder, *flags: str, disk: DiskSpace | None = None):  # type: ignore[no-untyped-def]
    ctx, robot, leader, engine = make_context("--strategy.type=sentry", "--dataset.repo_id=t/x",
                                              "--dataset.push_to_hub=false", "--strategy.episode_time_s=0.2",
                                              "--return_to_initial_position=false", *flags)
    recording = Recording(recorder, None, ctx.layout, ctx.events, "task", 0, disk=disk,
                          min_episode_s=ctx.config.dataset.min_episode_s)
    strategy = SentryStrategy(ctx.config.strategy, recording, ctx.config.fps)
    ctx.started_at = time.perf_counter()
    return ctx, strategy


def _ticks(ctx, strategy, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(n):
        ctx.tick += 1
        ctx.now = time.perf_counter()
        strategy.tick(ctx)


def _kinds(ctx) -> list[str]:  # type: ignore[no-untyped-def]
    return [event.kind for event in ctx.events.since(0)]


def test_a_failed_save_pauses_the_policy_and_names_cause_and_fix() -> None:
    ctx, strategy = _sentry(FailingRecorder())
    _ticks(ctx, strategy, 12)  # past one rotation (0.2 s at 30 fps): the save fails
    assert ctx.phase is P.PAUSED
    assert ctx.notice_level == "error" and "No space left" in ctx.notice and "Free space" in ctx.notice
    assert "recording_failed" in _kinds(ctx)
    failed = [e for e in ctx.events.since(0) if e.kind == "recording_failed"][0]
    assert failed.data["level"] == "error" and failed.data["fix"]
    # resuming is the acknowledgement: the notice goes, the policy drives again
    strategy.handle(ctx, Command("resume"))
    assert ctx.phase is P.AUTONOMOUS and ctx.notice is None


def test_on_error_continue_keeps_the_robot_going_and_says_why() -> None:
    ctx, strategy = _sentry(FailingRecorder(), "--dataset.on_error=continue")
    _ticks(ctx, strategy, 12)
    assert ctx.phase is P.AUTONOMOUS
    assert ctx.notice_level == "error" and "No space left" in ctx.notice


class _Disk(DiskSpace):
    def __init__(self, free: int) -> None:
        super().__init__(__import__("pathlib").Path("/nonexistent"), min_free_bytes=0, prior_bytes_per_s=1e6)
        self.free_bytes = free


def test_an_episode_that_would_not_fit_is_refused_before_it_starts() -> None:
    ctx, strategy = _sentry(FakeRecorder(), disk=_Disk(free=100_000))
    _ticks(ctx, strategy, 3)
    assert ctx.phase is P.PAUSED and "not enough disk space" in ctx.notice
    assert strategy.recording.recorder.saved == [] and not strategy.recording.open


def test_needed_bytes_follow_the_measured_rate_and_length() -> None:
    assert episode_bytes_needed(1e6, 10) > 10e6
    assert episode_bytes_needed(1e6, None) == episode_bytes_needed(1e6, 60)
    disk = _Disk(free=50 * 2**20)
    disk.dataset_bytes = 10 * 2**20
    assert disk.bytes_per_s(recorded_s=0.5) == 1e6  # the prior until a second is recorded
    assert disk.bytes_per_s(recorded_s=10) == 2**20
    assert disk.refusal(recorded_s=10, max_episode_s=30) is None
    assert "not enough disk space" in disk.refusal(recorded_s=10, max_episode_s=60)
    # an episode rotated by size never grows past its size, however long it runs
    assert disk.refusal(recorded_s=10, max_episode_s=43_000, max_episode_bytes=20 * 2**20) is None
    assert episode_bytes_needed(1e6, 43_000, 20 * 2**20) < 30 * 2**20


def test_a_size_rotated_sentry_asks_only_for_its_rotation_size() -> None:
    ctx, *_ = make_context("--strategy.type=sentry", "--dataset.repo_id=t/x", "--dataset.push_to_hub=false",
                           "--dataset.video=false", "--strategy.target_video_file_size_mb=5")
    disk = _Disk(free=40 * 2**20)  # far less than the prior rate (1 MB/s) over the estimated length
    recording = Recording(FakeRecorder(), None, ctx.layout, ctx.events, "task", 0, disk=disk)
    strategy = SentryStrategy(ctx.config.strategy, recording, ctx.config.fps)
    cameras = max(1, len(ctx.layout.camera_names))
    assert strategy.episode_s * 1e6 > 40 * 2**20 and recording.max_episode_bytes == 5 * 2**20 * cameras
    assert recording.start() is not None and not recording.take_faults()


def test_failures_are_explained_in_words() -> None:
    assert "Free space" in explain_failure(OSError(errno.ENOSPC, "No space left on device")).fix
    assert "writable" in explain_failure(PermissionError(errno.EACCES, "Permission denied")).fix
    assert "vcodec" in explain_failure("camera front: finishing the video failed").fix


def test_an_automatic_pause_discards_a_too_short_episode_with_a_reason() -> None:
    recorder = FailingRecorder(fail=False)
    ctx, strategy = _sentry(recorder, "--dataset.min_episode_s=1", "--strategy.episode_time_s=10")
    _ticks(ctx, strategy, 5)  # 5 frames: far below 1 s
    strategy.pause_on_its_own(ctx, "paused: stale camera input front")
    _ticks(ctx, strategy, 1)
    assert recorder.saved == [] and recorder.discard_reasons and "min_episode_s" in recorder.discard_reasons[0]


def test_an_operator_pause_keeps_even_a_short_episode() -> None:
    recorder = FailingRecorder(fail=False)
    ctx, strategy = _sentry(recorder, "--dataset.min_episode_s=1", "--strategy.episode_time_s=10")
    _ticks(ctx, strategy, 5)
    strategy.handle(ctx, Command("pause"))
    _ticks(ctx, strategy, 1)
    assert len(recorder.saved) == 1 and len(recorder.saved[0]) == 5


def test_a_lease_pause_is_automatic_and_keeps_its_reason() -> None:
    ctx, strategy = _sentry(FailingRecorder(fail=False), "--strategy.episode_time_s=10")
    _ticks(ctx, strategy, 2)
    strategy.handle(ctx, Command("pause", source="lease"))
    assert ctx.phase is P.PAUSED and "lease" in ctx.notice and ctx.paused_by


def test_stopped_only_after_every_save_is_durable_or_failed() -> None:
    recorder = FailingRecorder(fail=False, hold=True)
    ctx, strategy = _sentry(recorder, "--strategy.episode_time_s=10")
    _ticks(ctx, strategy, 5)
    strategy.handle(ctx, Command("stop"))
    _ticks(ctx, strategy, 5)
    assert ctx.phase is P.STOPPING and recorder.pending_saves == 1
    recorder.release()
    _ticks(ctx, strategy, 2)
    assert ctx.phase is P.STOPPED


def test_stop_after_estop_finishes_saves_in_place() -> None:
    recorder = FailingRecorder(fail=False, hold=True)
    ctx, strategy = _sentry(recorder, "--strategy.episode_time_s=10")
    _ticks(ctx, strategy, 5)
    strategy.handle(ctx, Command("estop"))
    _ticks(ctx, strategy, 1)
    sent = len(ctx.robot.sent)
    strategy.handle(ctx, Command("stop"))
    _ticks(ctx, strategy, 3)
    assert ctx.phase is P.STOPPING and len(ctx.robot.sent) == sent  # no motion while stopping in place
    recorder.release()
    _ticks(ctx, strategy, 1)
    assert ctx.phase is P.STOPPED
