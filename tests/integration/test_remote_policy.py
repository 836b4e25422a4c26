"""Remote policies over loopback with real second processes: serve-policy, an openpi-like server, a fault proxy.

Bounds are generous on purpose (the machine is shared and loaded): behaviour is checked by waiting
for states with long deadlines, never by timing a single event tightly.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import httpx
import pytest
from helpers import config, dataset_flags, live_server, wait_until
from remote_fakes.fault_proxy import FaultProxy
from remote_fakes.processes import openpi_like, serve_policy
from rollout_console.errors import ConfigError
from rollout_console.protocol.phases import Phase
from rollout_console.runtime import Session, build_session
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

NO_RETURN = "--return_to_initial_position=false"


def raw_connect(url: str, client: str | None = None, key: str | None = None):
    """A bare WebSocket client (no console behind it), as a second robot or a reconnect would be."""
    headers = ([("X-Rollout-Client", client)] if client else []) + ([("Authorization", f"Api-Key {key}")] if key else [])
    direct = {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}
    return connect(url, additional_headers=headers, proxy=None, open_timeout=30, **direct)


def remote(url: str, *flags: str):
    """A remote-policy config for a loaded shared CPU: threshold 45 of 50 rows leaves 1.5 s per request,
    and camera frames may be late without pausing (these tests are about the network, not cameras)."""
    engine = [] if "--inference.type=sync" in flags else ["--inference.queue_threshold=45"]
    return config("--policy.type=remote", f"--policy.url={url}", NO_RETURN, "--loop.max_observation_age_ms=10000",
                  *engine, *flags)


@pytest.fixture(scope="module")
def flow_server():
    with serve_policy() as server:
        yield server


def _inference(session) -> dict:
    return session.status()["inference"]


def test_serve_policy_drives_a_session_with_guided_rtc_over_the_wire(flow_server) -> None:
    session = build_session(remote(flow_server.url))
    session.start()
    try:
        wait_until(lambda: _inference(session)["inferences"] >= 5, timeout=60, message="remote inferences")
        inference = _inference(session)
        assert inference["engine"] == "rtc" and inference["mode"] == "guided"  # server advertises RTC
        assert inference["connection"]["state"] in ("streaming", "degraded")
        assert inference["connection"]["server"] == flow_server.url
        assert inference["connection"]["bytes_sent_last"] > 0
        assert inference["action_lateness_ms_max"] <= inference["max_action_age_ms"]
        assert session.phase is Phase.AUTONOMOUS
    finally:
        session.shutdown()
    assert httpx.get(flow_server.http + "/healthz", timeout=10).text.strip() == "ok"
    metrics = httpx.get(flow_server.http + "/metrics", timeout=10).text
    guided = [line for line in metrics.splitlines() if line.startswith('policy_server_requests_total{kind="guided"}')]
    assert guided and float(guided[0].split()[-1]) >= 1


def test_sync_engine_works_with_a_remote_policy(flow_server) -> None:
    session = build_session(remote(flow_server.url, "--inference.type=sync"))
    session.start()
    try:
        wait_until(lambda: _inference(session)["inferences"] >= 2, timeout=60, message="sync remote inferences")
        inference = _inference(session)
        assert inference["engine"] == "sync" and inference["connection"]["state"] in ("streaming", "degraded")
    finally:
        session.shutdown()


def test_openpi_like_server_with_rename_map_runs_unguided_with_blended_seams() -> None:
    with openpi_like("--require", "observation/state,prompt", "--state-key", "observation/state") as server:
        session = build_session(remote(server.url, "--policy.rename_map=observation.state=observation/state,task=prompt",
                                       "--task=pick the cube"))
        assert session.ctx.engine.guidance is False and session.ctx.engine.splice == "blend"
        session.start()
        try:
            wait_until(lambda: _inference(session)["inferences"] >= 5, timeout=60, message="openpi-like inferences")
            assert _inference(session)["mode"] == "naive" and session.phase is Phase.AUTONOMOUS
        finally:
            session.shutdown()


def test_asking_for_guidance_from_a_server_without_the_rtc_extension_is_refused_at_start() -> None:
    with openpi_like() as server:
        with pytest.raises(ConfigError, match="--inference.type.*guided"):
            build_session(remote(server.url, "--inference.rtc.guidance=true"))


def test_a_server_error_text_frame_pauses_with_the_servers_message() -> None:
    with openpi_like("--require", "observation/state,prompt", "--state-key", "observation/state") as server:
        session = build_session(remote(server.url))  # no rename_map: the server lacks its keys
        session.start()
        try:
            wait_until(lambda: session.phase is Phase.PAUSED, timeout=60, message="paused on server errors")
            notice = session.status()["notice"]
            assert server.url in notice and "observation/state" in notice
        finally:
            session.shutdown()


def test_wrong_action_shape_in_the_first_reply_is_named_and_nothing_moves() -> None:
    with openpi_like("--dim", "7") as server:
        session = build_session(remote(server.url))
        session.start()
        try:
            wait_until(lambda: session.phase is Phase.PAUSED, timeout=60, message="paused on the shape")
            notice = session.status()["notice"]
            assert "(20, 7)" in notice and "shoulder_pan.pos" in notice and server.url in notice
            assert session.ctx.engine.metrics.chunks_started == 0  # no action of it was ever executed
        finally:
            session.shutdown()


def test_advertised_shapes_that_do_not_fit_fail_before_the_robot_connects() -> None:
    with openpi_like("--metadata", '{"action_dim": 7, "action_horizon": 20}') as server:
        with pytest.raises(ConfigError, match=r"--policy.url.*dimension 7.*6"):
            build_session(remote(server.url))


def test_unknown_rename_map_keys_and_unreachable_servers_are_config_errors(flow_server) -> None:
    with pytest.raises(ConfigError, match=r"--policy.rename_map.*observation.images.wrist"):
        build_session(remote(flow_server.url, "--policy.rename_map=observation.images.wrist=image"))
    with _refusing_proxy() as proxy:
        with pytest.raises(ConfigError, match=r"--policy.url.*(cannot connect|no metadata)"):
            build_session(remote(proxy.url, "--policy.connect_timeout_s=2"))


class _refusing_proxy:
    def __enter__(self) -> FaultProxy:
        self.proxy = FaultProxy(("127.0.0.1", 9))
        self.proxy.refuse = True
        return self.proxy

    def __exit__(self, *exc) -> None:
        self.proxy.close()


def test_api_key_wrong_is_refused_with_401_before_anything_moves_and_never_shown(monkeypatch) -> None:
    key = "k3y-for-the-gpu-box"
    with serve_policy(env={"ROLLOUT_POLICY_API_KEY": key}) as server:
        monkeypatch.setenv("ROLLOUT_POLICY_API_KEY", "wrong")
        with pytest.raises(ConfigError, match="401"):
            build_session(remote(server.url))
        result = subprocess.run([sys.executable, "-m", "rollout_console", "--policy.type=remote",
                                 f"--policy.url={server.url}", "--server.port=0"],
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, "ROLLOUT_POLICY_API_KEY": "wrong"})
        assert result.returncode == 2 and "401" in result.stderr and "wrong" not in result.stderr
        monkeypatch.setenv("ROLLOUT_POLICY_API_KEY", key)
        with live_server(remote(server.url)) as live, live.client() as client:
            wait_until(lambda: client.get("/api/v1/status").json()["inference"]["inferences"] >= 2, timeout=60,
                       message="authenticated inferences")
            status = client.get("/api/v1/status").json()
            assert status["inference"]["connection"]["state"] in ("streaming", "degraded")
            shown = client.get("/api/v1/config").text
            assert key not in shown and "ws://127.0.0.1" in shown
            # one robot at a time: a second robot is refused at the handshake while the first is served
            with pytest.raises(InvalidStatus) as refused:
                raw_connect(server.url, key=key)
            assert refused.value.response.status_code == 409


def test_server_killed_mid_chunk_pauses_naming_it_and_resume_works_once_it_is_back() -> None:
    with serve_policy() as first:
        proxy = FaultProxy(("127.0.0.1", first.port))
        session = build_session(remote(proxy.url, "--policy.request_timeout_s=30"))
        session.start()
        try:
            wait_until(lambda: _inference(session)["inferences"] >= 3, timeout=60, message="inferences")
            first.kill()
            wait_until(lambda: session.phase is Phase.PAUSED, timeout=30, message="paused once the queue ran dry")
            status = session.status()
            assert proxy.url in status["notice"]
            inference = status["inference"]
            assert inference["action_lateness_ms_max"] <= inference["max_action_age_ms"]  # never a stale action
            wait_until(lambda: _inference(session)["connection"]["state"] == "reconnecting", timeout=30,
                       message="reconnecting")
            # resume while the server is down: accepted, then paused again at once with the reason
            session.submit("resume")
            wait_until(lambda: session.phase is Phase.PAUSED and "unreachable" in (session.status()["notice"] or ""),
                       timeout=30, message="paused again: server unreachable")
            with serve_policy() as second:
                proxy.target = ("127.0.0.1", second.port)
                wait_until(lambda: _inference(session)["connection"]["state"] in ("streaming", "degraded"),
                           timeout=60, message="reconnected")
                before = _inference(session)["inferences"]
                assert session.submit("resume").accepted
                wait_until(lambda: _inference(session)["inferences"] >= before + 3, timeout=60,
                           message="inferences after resume")
                assert session.phase is Phase.AUTONOMOUS
                assert _inference(session)["connection"]["reconnects"] >= 1
        finally:
            session.shutdown()
            proxy.close()


def _inferences_while_running(session: Session, count: int) -> bool:
    """True once ``count`` inferences were made; a slow machine may run the queue dry at +300 ms (the session
    then pauses itself, which is right): resume it, since this test is about the connection states."""
    if session.phase is Phase.PAUSED:
        session.submit_nowait("resume", source="test")
    return _inference(session)["inferences"] >= count


def test_fault_proxy_latency_jitter_stall_and_cut_show_as_connection_states(flow_server) -> None:
    proxy = FaultProxy(("127.0.0.1", flow_server.port))
    proxy.latency_s, proxy.jitter_s = 0.3, 0.05
    # stall_after_ms well above the injected 300 ms: on a loaded machine the server's own inference adds
    # seconds, and that must read as degraded, not stalled
    session = build_session(remote(proxy.url, "--policy.latency_budget_ms=200", "--policy.stall_after_ms=4000",
                                   "--policy.request_timeout_s=30"))
    session.start()
    try:
        wait_until(lambda: _inference(session)["connection"]["state"] == "degraded", timeout=60,
                   message="degraded at +300 ms")
        wait_until(lambda: _inferences_while_running(session, 3), timeout=60, message="inferences at +300 ms")
        proxy.stall()
        wait_until(lambda: _inference(session)["connection"]["state"] == "stalled", timeout=30, message="stalled")
        wait_until(lambda: session.phase is Phase.PAUSED, timeout=30, message="paused on a dry queue")
        assert proxy.url in session.status()["notice"]
        proxy.unstall()
        proxy.latency_s = proxy.jitter_s = 0.0
        proxy.cut()
        wait_until(lambda: _inference(session)["connection"]["reconnects"] >= 1, timeout=60, message="reconnected")
        wait_until(lambda: _inference(session)["connection"]["state"] in ("streaming", "degraded"), timeout=60,
                   message="streaming again")
        before = _inference(session)["inferences"]
        assert session.submit("resume").accepted
        wait_until(lambda: _inferences_while_running(session, before + 2), timeout=60, message="resumed")
    finally:
        session.shutdown()
        proxy.close()


def test_dagger_takeover_and_handback_with_a_remote_policy(flow_server, tmp_path) -> None:
    flags = dataset_flags(tmp_path / "dagger", "dagger", "--teleop.driver=expert")
    session = build_session(remote(flow_server.url, *flags))
    session.start()
    try:
        wait_until(lambda: _inference(session)["inferences"] >= 2, timeout=60, message="autonomous inferences")
        assert session.submit("pause").accepted
        assert session.submit("takeover").phase is Phase.CORRECTING
        wait_until(lambda: session.ctx.tick > 0, message="ticks while correcting")
        assert session.submit("handback").phase is Phase.PAUSED
        epoch = session.ctx.engine._epoch
        assert session.submit("resume").phase is Phase.AUTONOMOUS
        assert session.ctx.engine._epoch > epoch  # the queue was reset: nothing planned before the takeover runs
        before = _inference(session)["inferences"]
        wait_until(lambda: _inference(session)["inferences"] >= before + 2, timeout=60, message="inferences after")
        assert session.phase is Phase.AUTONOMOUS
        wait_until(lambda: session.dataset_info()["total_episodes"] >= 1, timeout=60,
                   message="the correction saved as an episode")
    finally:
        session.shutdown()


def test_serve_policy_flag_errors_name_the_flag() -> None:
    for flags, expected in ((["--host=0.0.0.0"], "--host"), (["--policy.type=remote", "--policy.url=ws://x:1"], "--policy"),
                            (["--prot=9"], "--prot")):
        result = subprocess.run([sys.executable, "-m", "rollout_console.cli", "serve-policy", *flags],
                                capture_output=True, text=True, timeout=120, env={**os.environ,
                                                                                   "ROLLOUT_POLICY_API_KEY": ""})
        assert result.returncode == 2 and expected in result.stderr, result.stderr


def test_a_reconnect_from_the_same_console_replaces_its_half_dead_connection(flow_server) -> None:
    first = raw_connect(flow_server.url, client="console-a")
    try:
        first.recv(timeout=30)  # metadata
        with pytest.raises(InvalidStatus) as refused:  # another console: busy
            raw_connect(flow_server.url, client="console-b")
        assert refused.value.response.status_code == 409
        second = raw_connect(flow_server.url, client="console-a")
        try:
            assert second.recv(timeout=30)  # metadata: accepted
            with pytest.raises(ConnectionClosed) as closed:
                first.recv(timeout=30)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        finally:
            second.close()
    finally:
        first.close()


@pytest.mark.parametrize("strategy, extra", [("sentry", ["--strategy.episode_time_s=1"]),
                                             ("highlight", ["--strategy.ring_buffer_seconds=1"])])
def test_recording_strategies_record_a_remote_policy(flow_server, tmp_path, strategy, extra) -> None:
    from rollout_console.recording.verify import verify_dataset

    root = tmp_path / strategy
    session = build_session(remote(flow_server.url, *dataset_flags(root, strategy, *extra)))
    session.start()
    try:
        wait_until(lambda: _inference(session)["inferences"] >= 3, timeout=60, message="remote inferences")
        if strategy == "highlight":
            assert session.submit("mark").accepted
            wait_until(lambda: session.ctx.tick > 0, message="ticks")
            wait_until(lambda: _inference(session)["inferences"] >= 5, timeout=60, message="more inferences")
            assert session.submit("save").accepted
        wait_until(lambda: session.dataset_info()["total_episodes"] >= 1, timeout=60, message="an episode saved")
    finally:
        session.shutdown()
    assert verify_dataset(root).ok
