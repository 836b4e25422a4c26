"""FaultProxy: a TCP proxy on loopback that adds latency and jitter, stalls, refuses and cuts.

Runs its own asyncio loop in a daemon thread; the knobs can be turned from the test thread at any
time. Byte order is preserved in each direction (jittered delays never reorder data).

    latency_s, jitter_s   one-way delay added to every chunk of bytes, each direction
    stall()/unstall()     hold every byte (the connection stays open: a stalled server)
    refuse = True         new connections are closed at once (a server that is down)
    cut()                 close every open connection now (a network cut / server killed)
    target                (host, port) of the server; may change between connections
"""

from __future__ import annotations

import asyncio
import random
import threading
import time

__all__ = ["FaultProxy"]


class FaultProxy:
    def __init__(self, target: tuple[str, int], seed: int = 0) -> None:
        self.target = target
        self.latency_s = 0.0
        self.jitter_s = 0.0
        self.refuse = False
        self._stalled = threading.Event()
        self._random = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0
        self.port = 0
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault proxy did not start")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.connections += 1
        self._writers.update((writer, up_writer))
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True)
        for w in (writer, up_writer):
            self._writers.discard(w)
            w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Timestamp bytes as they arrive; a writer task releases each chunk at arrival + delay."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def deliver() -> None:
            release_at = 0.0
            while True:
                item = await queue.get()
                if item is None:
                    return
                due, data = item
                release_at = max(release_at, due)  # jitter never reorders bytes
                while self._stalled.is_set() or time.monotonic() < release_at:
                    await asyncio.sleep(min(0.005, max(0.001, release_at - time.monotonic())))
                writer.write(data)
                await writer.drain()

        delivering = asyncio.ensure_future(deliver())
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                jitter = self._random.uniform(-self.jitter_s, self.jitter_s) if self.jitter_s else 0.0
                queue.put_nowait((time.monotonic() + max(0.0, self.latency_s + jitter), data))
            queue.put_nowait(None)
            await delivering
        finally:
            delivering.cancel()
            writer.close()

    def stall(self) -> None:
        self._stalled.set()

    def unstall(self) -> None:
        self._stalled.clear()

    def cut(self) -> None:
        def close_all() -> None:
            for writer in list(self._writers):
                transport = writer.transport
                transport.abort()
        self._loop.call_soon_threadsafe(close_all)

    def close(self) -> None:
        async def shutdown() -> None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(5)
