"""/metrics on a real session over real uvicorn: loop, commands, episodes, uploads, cameras, inference."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import uvicorn
from helpers import config, dataset_flags, free_port, wait_until
from prometheus_client.parser import text_string_to_metric_families
from rollout_console.api import create_app
from rollout_console.api.metrics import LATENESS_BUCKETS, install_metrics
from rollout_console.runtime import build_session


@contextlib.contextmanager
def served(cfg, hub_api=None) -> Iterator[tuple[httpx.Client, object, object]]:
    """A real session on the sim, its app with /metrics, on a real loopback server."""
    session = build_session(cfg, hub_api=hub_api)
    app = create_app(cfg, session)
    metrics = install_metrics(app, session, app.state.hubs)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_graceful_shutdown=3))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, message="uvicorn start")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as client:
            yield client, session, metrics
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        assert not thread.is_alive()


def scrape(client: httpx.Client) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """name -> {sorted label items -> value}, for every sample of the exposition."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def one(samples, metric: str, /, **labels: str) -> float:
    return samples[metric][tuple(sorted(labels.items()))]


def maybe(samples, metric: str, /, **labels: str) -> float | None:
    return samples.get(metric, {}).get(tuple(sorted(labels.items())))


def test_loop_commands_episodes_cameras_and_inference(tmp_path) -> None:
    root = tmp_path / "ds"
    cfg = config(*dataset_flags(root, "sentry"), "--return_duration_s=0.3", "--policy.chunk_size=5")
    with served(cfg) as (client, session, _):
        wait_until(lambda: session.loop.stats.ticks > 30, message="ticks")
        assert client.post("/api/v1/commands/save").status_code == 200
        assert client.post("/api/v1/commands/pause").status_code == 200
        assert client.post("/api/v1/commands/takeover").status_code == 409  # sentry has no leader arm
        # the command events reach the counters from the event bus: wait for them, not for a time
        wait_until(lambda: maybe(scrape(client), "rollout_console_commands_total", name="takeover",
                                 result="rejected", source="rest") == 1, message="the command counters")
        samples = scrape(client)

        ticks = one(samples, "rollout_console_loop_ticks_total")
        assert ticks >= 30
        # the scrape folds the lateness of every tick run so far, then reads the tick counter
        count = one(samples, "rollout_console_loop_lateness_seconds_count")
        assert 30 <= count <= ticks <= session.loop.stats.ticks
        buckets = {dict(k)["le"] for k in samples["rollout_console_loop_lateness_seconds_bucket"]}
        assert buckets == {str(b) for b in LATENESS_BUCKETS} | {"+Inf"}
        assert one(samples, "rollout_console_loop_lateness_seconds_bucket", le="+Inf") == count
        assert one(samples, "rollout_console_loop_overruns_total") >= 0
        assert one(samples, "rollout_console_loop_target_hz") == 30.0

        assert one(samples, "rollout_console_commands_total", name="save", result="accepted", source="rest") == 1
        assert one(samples, "rollout_console_commands_total", name="pause", result="accepted", source="rest") == 1
        assert one(samples, "rollout_console_commands_total", name="takeover", result="rejected", source="rest") == 1
        assert one(samples, "rollout_console_session_phase", phase="paused") == 1
        assert one(samples, "rollout_console_session_phase", phase="autonomous") == 0

        # save acknowledges once durable, and the pause cut a second episode
        wait_until(lambda: one(scrape(client), "rollout_console_episodes_saved_total") == 2, message="2 saved")
        samples = scrape(client)
        assert one(samples, "rollout_console_episode_save_seconds_count") == 2
        assert one(samples, "rollout_console_frames_dropped_total") == 0
        assert one(samples, "rollout_console_recording_episodes") == 2

        # rates and ages are figures for `make bench`: here only their presence, sign and unit (seconds)
        for camera in ("front", "top"):
            assert one(samples, "rollout_console_camera_fps", camera=camera) > 0
            assert 0 <= one(samples, "rollout_console_camera_frame_age_seconds", camera=camera) < 60
            assert one(samples, "rollout_console_camera_frames_total", camera=camera) > 10
        assert one(samples, "rollout_console_inference_cold_start_seconds") > 0  # the first chunk's time
        assert one(samples, "rollout_console_inferences_total") > 5  # a chunk every 5 ticks
        assert 0 < one(samples, "rollout_console_inference_latency_seconds", quantile="0.5") < 60
        info = samples["rollout_console_session_info"]
        (labels,) = info
        assert dict(labels)["strategy"] == "sentry" and dict(labels)["robot"] == "sim_so101"

        # once the loop has stopped, every tick's lateness is in the histogram exactly once
        assert client.post("/api/v1/commands/stop").status_code == 200
        wait_until(lambda: session.finished, message="the session to stop")
        samples = scrape(client)
        final = session.loop.stats.ticks
        assert one(samples, "rollout_console_loop_ticks_total") == final
        assert one(samples, "rollout_console_loop_lateness_seconds_count") == final


class _Hub:
    """The Hub boundary without network: the first create_repo fails, everything after succeeds."""

    token = "hf_test_token"

    def __init__(self) -> None:
        self.failed = False
        self.committed_bytes = 0

    def create_repo(self, repo_id, **kwargs):
        if not self.failed:
            self.failed = True
            raise ConnectionError("hub unreachable (injected once)")
        return SimpleNamespace(repo_id=repo_id)

    def preupload_lfs_files(self, repo_id, additions, **kwargs):
        pass

    def create_commit(self, repo_id, operations, **kwargs):
        for operation in operations:
            with operation.as_file() as handle:
                self.committed_bytes += len(handle.read())
        return SimpleNamespace(oid="0" * 40)

    def delete_tag(self, *args, **kwargs):
        pass

    def create_tag(self, *args, **kwargs):
        pass


def test_upload_bytes_and_failures(tmp_path) -> None:
    root = tmp_path / "up"
    hub = _Hub()
    flags = dataset_flags(root, "sentry", "--strategy.upload_every_n_episodes=1", push=True)
    with served(config(*flags), hub_api=hub) as (client, session, _):
        wait_until(lambda: session.loop.stats.ticks > 15, message="ticks")
        assert client.post("/api/v1/commands/save").status_code == 200
        wait_until(lambda: one(scrape(client), "rollout_console_upload_failures_total", will_retry="true") == 1,
                   timeout=60, message="the failed attempt")
        wait_until(lambda: one(scrape(client), "rollout_console_uploads_total") == 1, timeout=60,
                   message="the retry succeeds")
        samples = scrape(client)
        # the failing attempt sent nothing; the successful one sent every byte the Hub received
        assert one(samples, "rollout_console_upload_bytes_total") == hub.committed_bytes > 0
        assert session.recording.uploader.status()["state"] in ("idle", "done", "pending", "uploading")


def test_registries_are_per_app_and_install_is_idempotent() -> None:
    cfg = config()
    first, second = build_session(cfg), build_session(cfg)
    app_a, app_b = create_app(cfg, first), create_app(cfg, second)
    metrics_a = install_metrics(app_a, first)
    metrics_b = install_metrics(app_b, second)
    assert metrics_a.registry is not metrics_b.registry
    assert install_metrics(app_a, first) is metrics_a  # a second call (integrator + test) changes nothing
    assert [getattr(r, "path", None) for r in app_a.routes].count("/metrics") == 1
    first.events.publish("command", name="stop", accepted=True, source="pedal")
    text_a = metrics_a.exposition().decode()
    text_b = metrics_b.exposition().decode()
    assert 'rollout_console_commands_total{name="stop",result="accepted",source="pedal"} 1.0' in text_a
    assert 'name="stop"' not in text_b
    metrics_a.close()
    metrics_b.close()
