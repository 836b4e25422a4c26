"""The CPU budget's plan: torch threads from the cores left, presets from measured encoder cost, flags win,
and a plan that cannot fit says what was measured and what to change (pure functions, fake measurements)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import config, dataset_flags, wait_until
from rollout_console.recording.video import VideoSettings
from rollout_console.runtime.cpu_budget import (
    LOOP_CORES,
    CpuBudget,
    EncoderPlan,
    TorchPlan,
    available_cores,
    choose_preset,
    encoder_share,
    faster_presets,
    judge,
    more_torch_threads,
    plan_for_session,
    plan_torch_threads,
)


def _encoders(preset: str = "12", source: str = "default", cameras: int = 2, vcodec: str = "libsvtav1") -> EncoderPlan:
    return EncoderPlan(vcodec=vcodec, preset=preset, preset_source=source, threads=1, threads_source="auto", nice=10,
                       cameras=cameras, fps=30.0)


def test_torch_gets_the_cores_left_after_the_loop_and_the_encoders() -> None:
    assert plan_torch_threads(2, None, True, encoder_cores=0.5) == TorchPlan(1, "auto")  # 0.35 + 0.5 -> 1 core
    assert plan_torch_threads(2, None, True, encoder_cores=0.0) == TorchPlan(2, "auto")  # nothing recorded
    assert plan_torch_threads(2, None, True, encoder_cores=0.0, async_inference=False) == TorchPlan(2, "auto")
    assert plan_torch_threads(2, None, True, encoder_cores=0.4, async_inference=False) == TorchPlan(2, "auto")
    assert plan_torch_threads(8, None, True, encoder_cores=0.5) == TorchPlan(7, "auto")
    assert plan_torch_threads(8, None, True, encoder_cores=1.8) == TorchPlan(6, "auto")  # 2.15 -> 2 cores
    assert plan_torch_threads(64, None, True, encoder_cores=0.5).threads == 8  # capped
    assert plan_torch_threads(1, None, True, encoder_cores=0.5) == TorchPlan(1, "auto")  # never 0
    assert plan_torch_threads(2, 3, True, encoder_cores=0.5) == TorchPlan(3, "flag")  # the flag wins
    assert plan_torch_threads(2, None, False, encoder_cores=0.5) == TorchPlan(None, "none")  # no torch here


def test_faster_presets_walk_the_ladder_and_never_slow_down() -> None:
    assert faster_presets("libsvtav1", "12") == ["12", "13"]
    assert faster_presets("h264", "veryfast") == ["veryfast", "superfast", "ultrafast"]
    assert faster_presets("h264", "ultrafast") == ["ultrafast"]
    assert faster_presets("libsvtav1", "4") == ["4"]  # off the ladder (a flag's choice): left alone


def test_the_default_preset_is_kept_when_it_fits() -> None:
    plan = _encoders()
    choose_preset(plan, cores=2, measure=lambda preset: 8.0)  # 2 x 30 x 8 ms = 0.48 cores <= 0.7
    assert (plan.preset, plan.preset_source) == ("12", "default")
    assert plan.cores_needed == pytest.approx(0.48)
    assert judge(2, plan, TorchPlan(1, "auto"), async_inference=True) == (True, None)


def test_a_faster_preset_is_chosen_when_the_default_does_not_fit() -> None:
    plan = _encoders(preset="veryfast", vcodec="h264", cameras=3)
    costs = {"veryfast": 12.0, "superfast": 9.0, "ultrafast": 3.0}
    choose_preset(plan, cores=2, measure=costs.__getitem__)
    assert (plan.preset, plan.preset_source) == ("ultrafast", "auto")
    assert set(plan.cpu_ms_per_frame) == set(costs)  # every preset tried was measured and is reported


def test_a_preset_given_by_flag_is_measured_but_never_changed() -> None:
    plan = _encoders(preset="veryslow", source="flag", vcodec="h264", cameras=3)
    choose_preset(plan, cores=2, measure=lambda preset: 80.0)
    assert (plan.preset, plan.preset_source) == ("veryslow", "flag")
    fits, advice = judge(2, plan, TorchPlan(1, "auto"), async_inference=True)
    assert fits is False and advice is not None
    assert "7.20 of 2 cores" in advice and "80.0 ms per frame" in advice and "fewer or smaller cameras" in advice


def test_everything_together_must_fit_the_cores() -> None:
    plan = _encoders(cameras=2)
    choose_preset(plan, cores=2, measure=lambda preset: 10.0)  # 0.6 cores: within the encoders' share
    fits, advice = judge(2, plan, TorchPlan(2, "flag"), async_inference=True)  # 0.35 + 0.6 + 2 > 2
    assert fits is False and advice is not None and "--policy.torch_threads" in advice
    assert judge(2, plan, TorchPlan(1, "auto"), async_inference=True) == (True, None)
    # sync inference runs on the control thread, in turn with it: only the encoders and the loop count
    assert judge(2, plan, TorchPlan(2, "flag"), async_inference=False) == (True, None)
    assert encoder_share(2) == 0.7 and encoder_share(16) == pytest.approx(5.6) and LOOP_CORES < 1


@dataclass
class _Worker:
    settings: VideoSettings
    pending_live: int = 0


def test_the_budget_measures_in_the_background_sets_the_workers_and_follows_a_backlog() -> None:
    published: list[tuple[str, dict]] = []
    measured = threading.Event()

    def measure(preset: str) -> float:
        measured.set()
        return {"veryfast": 20.0, "superfast": 6.0, "ultrafast": 2.0}[preset]

    workers = {"front": _Worker(VideoSettings(vcodec="h264")), "top": _Worker(VideoSettings(vcodec="h264"))}
    budget = CpuBudget(2, TorchPlan(1, "auto"), _encoders(preset="veryfast", vcodec="h264"), async_inference=True,
                       publish=lambda kind, **data: published.append((kind, data)))
    budget.attach_workers(workers)
    assert budget.status()["fits"] is None  # measuring
    budget.attach_measure(measure)
    budget.start()
    try:
        wait_until(lambda: budget.status()["fits"] is not None, timeout=30, message="the budget's verdict")
        status = budget.status()
        assert status["fits"] is True and status["encoders"]["preset"] == "superfast"
        assert status["encoders"]["preset_source"] == "auto" and status["encoders"]["cores_needed"] == 0.36
        assert all(w.settings.preset == "superfast" for w in workers.values())
        assert published and published[0][0] == "cpu_budget" and "superfast" in published[0][1]["message"]
        workers["top"].pending_live = 90  # 3 s of frames behind: one step faster, from the next encoder
        wait_until(lambda: budget.status()["adaptations"], timeout=30, message="an adaptation")
        assert all(w.settings.preset == "ultrafast" for w in workers.values())
        assert "3.0 s behind" in budget.status()["adaptations"][0]
        assert budget.status()["encoders"]["vcodec"] == "h264"  # never another codec
    finally:
        budget.close()


def test_a_failing_probe_is_reported_and_changes_nothing() -> None:
    def broken(preset: str) -> float:
        raise RuntimeError("the encoder probe failed: no such codec")

    workers = {"front": _Worker(VideoSettings())}
    budget = CpuBudget(2, TorchPlan(None, "none"), _encoders(), async_inference=False)
    budget.attach_workers(workers)
    budget.attach_measure(broken)
    budget.start()
    try:
        wait_until(lambda: budget.status()["advice"], timeout=30, message="the probe's error")
        status = budget.status()
        assert status["fits"] is None and "no such codec" in status["advice"]
        assert status["encoders"]["probe_error"] and workers["front"].settings.preset in (None, "12")  # the default
    finally:
        budget.close()


def test_a_session_plan_reads_the_flags_and_the_cameras() -> None:
    shapes = {"observation.images.front": (480, 640, 3), "observation.images.top": (480, 640, 3)}
    cfg = config("--policy.path=builtin:sim_flow", *dataset_flags(Path("/tmp/x"), "sentry"),
                 "--dataset.vcodec=libsvtav1", "--dataset.preset=13", "--policy.torch_threads=1", small=False)
    budget = plan_for_session(cfg, shapes)
    assert budget.cores == available_cores()
    assert budget.torch == TorchPlan(1, "flag")
    assert budget.encoders is not None and (budget.encoders.preset, budget.encoders.preset_source) == ("13", "flag")
    assert budget.encoders.cameras == 2 and budget.encoders.threads == 1
    plain = plan_for_session(config(small=False), shapes)  # scripted policy, nothing recorded
    assert plain.torch == TorchPlan(None, "none") and plain.encoders is None and plain.status()["fits"] is True


def test_inference_that_cannot_keep_up_is_said_once_and_withdrawn_when_it_does() -> None:
    published: list[tuple[str, dict]] = []
    state = {"keeps_up": False, "inferences": 1, "latency_ms": {"p50": 1000.0, "p95": 1200.0}, "chunk_size": 50}
    budget = CpuBudget(2, TorchPlan(1, "flag"), None, async_inference=True,  # a flag's value is never raised
                       publish=lambda kind, **data: published.append((kind, data)))
    budget.attach_engine(lambda: dict(state), fps=30.0)
    budget.inference_hook()
    budget.start()
    try:
        assert budget.status()["fits"] is True  # no encoders; too few inferences to judge yet
        state["inferences"] = 3
        wait_until(lambda: budget.status()["fits"] is False, timeout=30, message="the inference verdict")
        advice = budget.status()["advice"]
        assert "1.20 s per chunk (p95, 1 torch thread)" in advice and "lasts 1.67 s" in advice
        assert "below half of that (0.83 s)" in advice and "--policy.type=remote" in advice
        assert "--dataset.vcodec=h264" in advice and "--policy.torch_threads=2" in advice
        state["inferences"] = 9
        threading.Event().wait(2.5)  # two more looks: still one warning, not one per second
        assert [kind for kind, _ in published] == ["cpu_budget"]
        state["keeps_up"] = True
        wait_until(lambda: budget.status()["fits"] is True, timeout=30, message="the verdict withdrawn")
        assert budget.status()["advice"] is None
    finally:
        budget.close()


def test_torch_gets_another_core_only_where_what_runs_beside_it_is_cheap() -> None:
    auto = TorchPlan(1, "auto")
    assert more_torch_threads(2, auto, None) == 2  # nothing recorded: the loop alone beside it
    cheap = _encoders(preset="ultrafast", vcodec="h264")
    cheap.cpu_ms_per_frame["ultrafast"] = 2.5  # 2 x 30 x 2.5 ms = 0.15 core, + the loop's 0.35 <= 0.7
    assert more_torch_threads(2, auto, cheap) == 2
    costly = _encoders()
    costly.cpu_ms_per_frame["12"] = 8.0  # AV1: 0.48 core + 0.35 > 0.7: the encoders would starve
    assert more_torch_threads(2, auto, costly) is None
    assert more_torch_threads(2, auto, _encoders()) is None  # not measured yet: wait
    assert more_torch_threads(2, TorchPlan(2, "auto"), None) is None  # every core already
    assert more_torch_threads(2, TorchPlan(1, "flag"), None) is None  # the flag wins
    assert more_torch_threads(2, TorchPlan(None, "none"), None) is None  # no torch on this CPU
    assert more_torch_threads(16, TorchPlan(8, "auto"), None) is None  # capped


def test_inference_falling_behind_gets_another_core_on_its_own_thread_then_is_judged_again() -> None:
    torch = pytest.importorskip("torch")
    published: list[tuple[str, dict]] = []
    state = {"keeps_up": False, "inferences": 3, "latency_ms": {"p50": 1000.0, "p95": 1200.0}, "chunk_size": 50,
             "delay_window": [36] * 5}
    budget = CpuBudget(2, TorchPlan(1, "auto"), None, async_inference=True,
                       publish=lambda kind, **data: published.append((kind, data)))
    budget.attach_engine(lambda: dict(state), fps=30.0)
    hook = budget.inference_hook()
    seen: list[int] = []

    def inference_thread() -> None:  # what the engine's thread does before a chunk
        torch.set_num_threads(1)
        hook()
        seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    budget.start()
    try:
        wait_until(lambda: budget.status()["adaptations"], timeout=30, message="torch given another core")
        status = budget.status()
        assert status["torch_threads"] == 2 and status["torch_threads_source"] == "auto"
        assert "torch threads 1 -> 2" in status["adaptations"][0] and "1.20 s per chunk" in status["adaptations"][0]
        assert status["fits"] is True and status["advice"] is None  # judged again on fresh figures first
        assert published[0][0] == "cpu_budget" and "1 -> 2" in published[0][1]["message"]
        worker = threading.Thread(target=inference_thread)
        worker.start()
        worker.join(30)
        assert seen == [2] and torch.get_num_threads() == before  # set on the inference thread only
        state["inferences"] = 7  # the engine's 5-chunk window has not refilled at the new width yet
        threading.Event().wait(2.5)
        assert budget.status()["fits"] is True
        state["inferences"] = 8  # still behind with every core: now it says so
        wait_until(lambda: budget.status()["fits"] is False, timeout=30, message="the inference verdict")
        advice = budget.status()["advice"]
        assert "(p95, 2 torch threads)" in advice and "--policy.torch_threads" not in advice
        assert budget.status()["torch_threads"] == 2 and len(budget.status()["adaptations"]) == 1
    finally:
        budget.close()


def test_a_raise_is_never_shown_where_no_inference_thread_applies_it() -> None:
    state = {"keeps_up": False, "inferences": 3, "latency_ms": {"p50": 1000.0, "p95": 1200.0}, "chunk_size": 50}
    budget = CpuBudget(2, TorchPlan(1, "auto"), None, async_inference=True)
    budget.attach_engine(lambda: dict(state), fps=30.0)  # no inference_hook(): e.g. a policy switch
    budget.start()
    try:
        wait_until(lambda: budget.status()["fits"] is False, timeout=30, message="the inference verdict")
        assert budget.status()["torch_threads"] == 1 and not budget.status()["adaptations"]
    finally:
        budget.close()


def test_a_session_hands_its_inference_thread_the_budget_hook() -> None:
    from rollout_console.runtime.builder import build_session

    session = build_session(config("--policy.path=builtin:sim_flow", "--inference.type=rtc",
                                   "--return_to_initial_position=false"))
    engine = session.ctx.engine
    budget = session.cpu_budget
    assert budget is not None and engine.before_inference is not None
    assert engine.before_inference.__self__ is budget  # the budget's own hook: it may now adapt the threads
    hook, threads = engine.before_inference, []

    def counted() -> None:
        threads.append(threading.get_ident())
        hook()

    engine.before_inference = counted
    session.start()
    try:
        wait_until(lambda: len(threads) >= 2, timeout=120, message="two inferences")
        assert threading.get_ident() not in threads  # on the engine's thread, not the caller's
    finally:
        session.shutdown(timeout=30)


def test_encoders_falling_behind_take_back_the_core_torch_was_given() -> None:
    published: list[tuple[str, dict]] = []
    state = {"keeps_up": False, "inferences": 3, "latency_ms": {"p50": 1000.0, "p95": 1200.0}, "chunk_size": 50,
             "delay_window": [36] * 3}
    encoders = _encoders(preset="ultrafast", source="flag", vcodec="h264")  # nothing faster to step to
    workers = {"front": _Worker(VideoSettings(vcodec="h264", preset="ultrafast"))}
    budget = CpuBudget(2, TorchPlan(1, "auto"), encoders, async_inference=True,
                       publish=lambda kind, **data: published.append((kind, data)))
    budget.attach_workers(workers)
    budget.attach_measure(lambda preset: 2.5)  # 0.15 core: cheap enough to share
    budget.attach_engine(lambda: dict(state), fps=30.0)
    budget.inference_hook()
    budget.start()
    try:
        wait_until(lambda: budget.status()["torch_threads"] == 2, timeout=30, message="torch given another core")
        workers["front"].pending_live = 75  # 2.5 s of frames behind, no faster preset: the core goes back
        wait_until(lambda: budget.status()["torch_threads"] == 1, timeout=30, message="the core given back")
        assert "torch back to 1" in budget.status()["adaptations"][-1]
        workers["front"].pending_live = 0
        state["inferences"] = 30  # still behind: now it is said, and torch is not raised again
        wait_until(lambda: budget.status()["fits"] is False, timeout=30, message="the inference verdict")
        assert budget.status()["torch_threads"] == 1 and len(budget.status()["adaptations"]) == 2
        assert workers["front"].settings.preset == "ultrafast"  # a flag's preset never changes
    finally:
        budget.close()


def test_the_verdict_follows_a_preset_stepped_up_by_a_backlog() -> None:
    costs = {"12": 12.3, "13": 14.2}  # under load the faster preset measured dearer: the default was kept
    workers = {"front": _Worker(VideoSettings()), "top": _Worker(VideoSettings())}
    budget = CpuBudget(2, TorchPlan(1, "auto"), _encoders(), async_inference=True)
    budget.attach_workers(workers)
    budget.attach_measure(costs.__getitem__)
    budget.start()
    try:
        wait_until(lambda: budget.status()["fits"] is False, timeout=30, message="the encoder verdict")
        assert "preset 12" in budget.status()["advice"]
        workers["top"].pending_live = 90
        wait_until(lambda: budget.status()["adaptations"], timeout=30, message="a faster preset")
        status = budget.status()
        assert status["encoders"]["preset"] == "13" and "preset 13" in status["advice"] and "14.2 ms" in status["advice"]
    finally:
        budget.close()
