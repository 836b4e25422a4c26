"""The console's pre-bound listening socket must give accepted connections TCP_NODELAY.

asyncio only disables Nagle on sockets whose ``proto`` is TCP; a socket made with proto 0 silently
keeps Nagle on, and every keep-alive HTTP response then waits ~40 ms for the client's delayed ACK.
"""

from __future__ import annotations

import asyncio
import socket
import threading

from rollout_console.cli import _bind
from rollout_console.config import RolloutConsoleConfig


def test_bound_socket_is_tcp_so_asyncio_disables_nagle() -> None:
    config = RolloutConsoleConfig.model_validate({"server": {"host": "127.0.0.1", "port": 0}})
    sock = _bind(config)
    port = sock.getsockname()[1]
    nodelay: list[int] = []

    async def scenario() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted = writer.get_extra_info("socket")
            nodelay.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            deadline = asyncio.get_running_loop().time() + 30  # generous: a loaded machine is slow
            while not nodelay and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)  # polling for the handler, bounded by the deadline
            writer.close()

    # a thread of its own: other tests (Playwright's sync API) may leave a loop running in this one
    runner = threading.Thread(target=lambda: asyncio.run(scenario()))
    runner.start()
    runner.join(timeout=60)
    assert sock.proto == socket.IPPROTO_TCP
    assert nodelay and nodelay[0] != 0
