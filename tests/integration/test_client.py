"""rollout_console.client against a real uvicorn server on loopback serving a real session on the sim robot."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading

import pytest
from helpers import cli_server, config, free_port, live_server, wait_until
from rollout_console.api.auth import AccessPolicy
from rollout_console.client import (
    RESYNC,
    AsyncConsole,
    CommandRejected,
    Console,
    LeaseHeld,
    NotFound,
    StatusPublic,
    Unauthorized,
)

OPERATOR = "operator-token-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdefgh"


@pytest.fixture(scope="module")
def server():
    # a lease that cannot lapse while a loaded machine runs the test (heartbeats every 0.3 s)
    with live_server(config("--return_duration_s=0.5", "--lease.timeout_s=5", "--lease.heartbeat_s=0.3")) as live:
        yield live


@pytest.fixture
def console(server):
    with Console(server.url, name="client-test") as console:
        console.wait_for("autonomous", timeout=30)
        yield console
        if console.status().phase == "estopped":
            console.reset()
        if console.status().phase == "paused":
            console.resume()


def test_status_is_typed(console) -> None:
    status = console.wait_for("autonomous", until=lambda s: s.loop.measured_hz is not None, timeout=30)
    assert isinstance(status, StatusPublic) and status.strategy == "base" and status.fps == 30
    assert len(status.robot.joints) == 6 and set(status.cameras) == {"front", "top"}
    assert status.policy.name == "scripted_expert" and "pause" in status.available_commands
    assert console.health().ok and [camera.name for camera in console.cameras()] == ["front", "top"]
    assert console.config()["strategy"]["type"] == "base"


def test_commands_answer_or_raise_a_typed_error(console, server) -> None:
    paused = console.pause()
    assert paused.phase == "paused" and not paused.already and not paused.pending
    assert console.pause().already  # already in effect: accepted, nothing changed
    with pytest.raises(CommandRejected, match="not available with the base strategy") as rejected:
        console.takeover()
    assert rejected.value.status == 409
    with pytest.raises(CommandRejected) as bad:
        console.command("pause", speed=3)
    assert bad.value.status == 422 and bad.value.issues[0]["loc"][-1] == "speed"
    with pytest.raises(NotFound, match="unknown command"):
        console.command("teleport")
    assert console.estop().phase == "estopped" and console.reset().phase == "paused"
    assert console.resume().phase == "autonomous"
    sources = [e.data.get("source") for e in console.recent_events().data if e.kind == "phase_changed"]
    assert "rest:client-test" in sources  # the name is the client id the server shows


def test_wait_for_times_out_naming_the_phase(console) -> None:
    with pytest.raises(TimeoutError, match="phase paused.*still autonomous"):
        console.wait_for("paused", timeout=0.3)


def test_control_holds_the_lease_heartbeats_and_releases(console, server) -> None:
    with Console(server.url, name="other") as other, console.control(label="nightly run") as control:
        assert console.lease()["yours"] and console.lease()["holder"]["label"] == "nightly run"
        with pytest.raises(LeaseHeld, match="nightly run") as held:
            other.pause()
        assert held.value.holder["label"] == "nightly run"
        # outlive the 5 s lease twice over: only the background heartbeats keep it
        wait_until(lambda: console.lease()["holder"]["held_s"] > 11, timeout=60, interval=0.2,
                   message="the lease held past two timeouts")
        assert control.lost is None and console.lease()["yours"]
        assert console.pause().phase == "paused"  # the holder commands
        assert other.estop().phase == "estopped"  # estop always works
        assert console.reset().phase == "paused"
        assert console.resume().phase == "autonomous"
    assert console.lease()["holder"] is None
    with Console(server.url, name="first") as first, Console(server.url, name="second") as second:
        with first.control(label="first"), pytest.raises(LeaseHeld, match="first"):
            with second.control(label="second"):
                pass
        assert second.lease()["holder"] is None  # the first block released it on exit
    # releasing control paused the moving robot (--lease.pause_on_release), at the loop's next tick
    console.wait_for("paused", timeout=30)


class Link:
    """A TCP forwarder between the client and the server: ``cut()`` drops every connection and refuses new
    ones (a network outage; the server keeps running), ``mend()`` lets connections through again."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.open = threading.Event()
        self.open.set()
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open.clear()
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self.connections.clear()

    def mend(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_events_resync_after_a_network_drop_and_from_scratch_after_a_server_restart() -> None:
    port = free_port()
    events: list = []
    restarted = threading.Event()

    def listen(console: Console, since: int) -> None:
        for event in console.events(since=since):
            events.append(event)
            if event.kind == RESYNC:
                restarted.set()
            if event.data.get("source") == "rest:after-restart":
                return

    with cli_server(port=port) as (url, _):
        link = Link(port)
        console = Console(link.url, name="watcher")
        since = console.wait_for("autonomous", timeout=60).event_seq
        listener = threading.Thread(target=listen, args=(console, since), daemon=True)
        listener.start()
        with Console(url, name="while-away") as direct:
            direct.pause()
            wait_until(lambda: any(e.kind == "phase_changed" for e in events), message="the first event")
            link.cut()  # the network drops; the server runs on and events happen meanwhile
            direct.resume()
            direct.pause()
            link.mend()
            wait_until(lambda: len([e for e in events if e.data.get("source") == "rest:while-away"]) >= 6,
                       message="the missed events replayed")
            direct.resume()
        seqs = [e.seq for e in events]
        assert seqs == list(range(since + 1, since + 1 + len(seqs))), "in order, none missing, none twice"
        assert not restarted.is_set()
    with cli_server(port=port) as (url, _):  # the same address, a new server process: numbering starts again
        wait_until(restarted.is_set, timeout=60, message="the resync notice")
        with Console(url, name="after-restart") as later:
            later.wait_for("autonomous", timeout=60)
            later.pause()
        listener.join(timeout=60)
        assert not listener.is_alive()
    notice = next(e for e in events if e.kind == RESYNC)
    assert notice.data["reason"] == "server_restarted" and "restarted" in notice.data["message"]
    after = events[events.index(notice) + 1:]
    assert after[0].seq == 1 and [e.seq for e in after] == list(range(1, len(after) + 1))  # from scratch
    assert after[-1].data.get("source") == "rest:after-restart"
    console.close()
    link.close()


def test_tokens_and_roles_are_typed_errors() -> None:
    def lan(port: int) -> AccessPolicy:
        return AccessPolicy.from_host("0.0.0.0", port, env={"ROLLOUT_CONSOLE_TOKEN": OPERATOR,
                                                            "ROLLOUT_CONSOLE_VIEWER_TOKEN": VIEWER})

    with live_server(config("--return_to_initial_position=false"), access=lan) as live:
        with Console(live.url) as anonymous, pytest.raises(Unauthorized) as denied:
            anonymous.status()
        assert denied.value.status == 401
        with Console(live.url, token=VIEWER) as viewer:
            assert viewer.status().strategy == "base"
            with pytest.raises(Unauthorized, match="viewer") as refused:
                viewer.pause()
            assert refused.value.status == 403 and viewer.estop().phase == "estopped"
        with Console(live.url, token=OPERATOR) as operator:
            assert operator.reset().phase == "paused"
            assert operator.resume().phase == "autonomous"
            event = next(operator.events(since=0))  # the token also opens the WebSocket
            assert event.seq >= 1


def test_async_console_has_the_same_surface(server) -> None:
    async def scenario() -> None:
        async with AsyncConsole(server.url, name="async-test") as console:
            status = await console.wait_for("autonomous", timeout=30)
            assert status.strategy == "base"
            stream = console.events(since=status.event_seq, kinds={"phase_changed"})
            async with console.control(label="async run"):
                assert (await console.lease())["yours"]
                assert (await console.pause()).phase == "paused"
                event = await asyncio.wait_for(anext(stream), 30)
                assert event.kind == "phase_changed" and event.data["phase"] == "paused"
                with pytest.raises(CommandRejected):
                    await console.takeover()
                assert (await console.estop()).phase == "estopped"
                with pytest.raises(CommandRejected, match="clear the E-STOP first") as refused:
                    await console.resume()
                assert refused.value.status == 409
                assert (await console.reset()).phase == "paused"
                assert (await console.resume()).phase == "autonomous"
            assert (await console.lease())["holder"] is None
            await stream.aclose()

    # in a thread of its own: an earlier test's sync Playwright keeps an event loop running on the main thread
    # (the full suite runs the e2e tests first), and asyncio.run refuses to start inside it
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(scenario())
        except BaseException as exc:  # re-raised on the test's thread below
            errors.append(exc)

    runner = threading.Thread(target=run, name="async-console-test")
    runner.start()
    runner.join(180)
    assert not runner.is_alive(), "the async scenario did not finish within 180 s"
    if errors:
        raise errors[0]


def test_an_operator_labelled_evaluation_through_the_client(tmp_path) -> None:
    flags = ["--strategy.type=episodic", "--strategy.outcome_from=operator",
             '--strategy.policies=[{type: scripted, name: A}, {type: scripted, name: B}]',
             "--strategy.num_episodes=2", "--strategy.episode_time_s=60", "--strategy.reset_time_s=60",
             f"--strategy.output_dir={tmp_path}", "--return_duration_s=0.3"]
    with live_server(config(*flags)) as live, Console(live.url, name="evaluator") as console:
        with pytest.raises(NotFound):
            console.episodes()  # this evaluation records no dataset
        for outcome in ("success", "failure"):
            console.wait_for("resetting", timeout=60)
            console.end_reset()
            console.wait_for("autonomous", timeout=60)
            assert console.end_episode().phase == "awaiting_outcome"
            with pytest.raises(CommandRejected) as missing:
                console.save()  # the outcome is required now: 422 naming it
            assert missing.value.status == 422
            console.save(outcome=outcome)
        report = console.wait_for(until=lambda s: s.evaluation["finished"], timeout=60)
        results = console.evaluation()
        assert results.finished_episodes == 2 and [e["outcome"] for e in results.episodes] == ["success", "failure"]
        assert sorted(p.name for p in results.policies) == ["A", "B"] and results.comparison.summary
        assert report.evaluation["of"] == 2  # fields the model does not declare are kept (forward compatible)
        console.exclude(1, "cube fell off the table")
        assert console.evaluation().episodes[0]["exclude_reason"] == "cube fell off the table"
