"""``rollout-console``: parse and validate every flag, bind the port, connect the robot, serve.

Order matters for safety: a bad flag exits with status 2 and a busy port with status 1 before any
hardware is touched; the robot connects last and is always returned home and released on exit.
The flags describe the first session; the server outlives it (phase ``idle`` after Stop, the page starts
the next one) unless ``--server.exit_when_stopped=true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Generator, Sequence

import uvicorn

from . import __version__
from .api.auth import AccessPolicy
from .config import RolloutConsoleConfig, help_text, load_config
from .errors import ConfigError, ConsoleError, RecordingError
from .inputs.attach import attach_inputs
from .runtime.builder import build_session
from .runtime.host import ConsoleHost

__all__ = ["main"]

log = logging.getLogger("rollout_console")

_LINGER_S = 1.0  # let pages receive the final "stopped" state before the server exits


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "train":  # train the built-in flow-matching policy on a recorded dataset
        from .policies.flow.train import main as train_main

        return train_main(args[1:])
    if args and args[0] == "serve-policy":  # serve a policy to remote robots (openpi WebSocket protocol)
        from .serving.main import main as serve_policy_main

        return serve_policy_main(args[1:])
    if args and args[0] == "ctl":  # a running console from a shell script (the light client's `rollout-ctl`)
        from .client.ctl import main as ctl_main

        return ctl_main(args[1:], prog="rollout-console ctl")
    if any(arg in ("-h", "--help") for arg in args):
        sys.stdout.write(help_text())
        return 0
    if "--version" in args:
        print(f"rollout-console {__version__}")
        return 0
    try:
        config = load_config(args)
        session = build_session(config)
    except (ConfigError, RecordingError) as exc:  # bad options, or a dataset they do not match
        print(f"rollout-console: error: {exc}", file=sys.stderr)
        print("rollout-console: see --help for every option", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.server.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sock = _bind(config)
    except OSError as exc:
        print(f"rollout-console: error: --server.port: cannot listen on {config.server.host}:{config.server.port}: "
              f"{exc.strerror}", file=sys.stderr)
        return 1
    try:
        access = AccessPolicy.from_host(config.server.host, sock.getsockname()[1], config=config.server.auth)
    except ConfigError as exc:
        print(f"rollout-console: error: {exc}", file=sys.stderr)
        sock.close()
        return 2
    host = ConsoleHost(config, session=session)
    attach_inputs(host, config)  # the pedal belongs to the server, not to the web app
    try:
        host.start()
    except ConsoleError as exc:
        print(f"rollout-console: error: {exc}", file=sys.stderr)
        sock.close()
        host.close()
        return 1
    return _serve(config, host, sock, access)


def _bind(config: RolloutConsoleConfig) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.server.host else socket.AF_INET
    # proto must be IPPROTO_TCP, not 0: asyncio enables TCP_NODELAY only on sockets whose proto
    # says TCP, and without it Nagle plus delayed ACK adds ~40 ms to every keep-alive response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.server.host, config.server.port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _ConsoleServer(uvicorn.Server):
    """uvicorn, but SIGINT and SIGTERM both run the session's durable shutdown before the server exits.

    uvicorn's own handlers stop serving at once and re-raise the signal afterwards, so a SIGTERM (docker
    stop, systemd, compose down) killed the process before the robot went home or the last episode was
    saved. Here the first signal stops the session (return home, every pending save durable, dataset
    closed) while the page keeps showing it; only then does the server exit. A second signal forces the
    exit at once; the dataset it leaves is repaired when it is next opened.
    """

    def __init__(self, config: uvicorn.Config, host: ConsoleHost) -> None:
        super().__init__(config)
        self.host = host
        self.stop_signal: int | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if self.stop_signal is not None:
            print(f"rollout-console: {name} again: exiting now; an unfinished save is repaired on the next open",
                  file=sys.stderr, flush=True)
            os._exit(128 + signum)
        self.stop_signal = signum
        print(f"rollout-console: {name}: stopping the session (return home, finish saves); send it again to "
              "exit at once", file=sys.stderr, flush=True)
        threading.Thread(target=self._stop_then_exit, name="signal-shutdown", daemon=True).start()

    def _stop_then_exit(self) -> None:
        try:
            self.host.close()
        finally:
            self.should_exit = True


def _serve(config: RolloutConsoleConfig, host: ConsoleHost, sock: socket.socket, access: AccessPolicy) -> int:
    from .api import create_app

    app = create_app(config, start_session=False, access=access, host=host)
    server = _ConsoleServer(
        uvicorn.Config(app, log_level=config.server.log_level, timeout_graceful_shutdown=5, ws_ping_interval=20),
        host,
    )
    if config.server.exit_when_stopped:  # the old contract: the process ends with its (first) session
        def exit_soon(_ended: object = None) -> None:
            host.refuse_new_sessions("the server is exiting: its session has ended (--server.exit_when_stopped=true)")
            timer = threading.Timer(_LINGER_S, lambda: setattr(server, "should_exit", True))
            timer.daemon = True
            timer.start()

        host.on_idle(exit_soon)
        if host.idle:  # the first session ended before the server even started
            exit_soon()

    async def run() -> None:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if server.started:
            for line in access.startup_lines():  # to the terminal only: it may carry the token
                print(line, flush=True)
            session = host.last_session
            if session is not None:
                print(f"rollout-console: strategy {session.strategy.name}, robot {host.robot.name}, "
                      f"policy {session.ctx.engine.policy_name}", flush=True)
        await serving

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    finally:
        host.close()
    last = host.last_session
    return 1 if last is not None and last.ctx.error else 0


if __name__ == "__main__":
    raise SystemExit(main())
