"""A tiny policy server that behaves like openpi's ``websocket_policy_server`` (run as a subprocess).

Written for the tests from openpi's documented behaviour, independently of the console's codec:
metadata first (a map, often empty), one reply ``{"actions": (H, D), "server_timing": ...}`` per
request, and on any error the message as a text frame followed by close 1011. It never checks the
API key (openpi's server does not).

    python openpi_like_server.py --port 0 [--horizon 20] [--dim N] [--metadata JSON]
           [--require KEY,KEY] [--state-key observation.state]

Actions hold the received state (plus a tiny ramp), so a robot driven by them stays put. ``--dim``
forces another action dimension (to test shape errors). Prints ``listening PORT`` when ready.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import traceback

import msgpack
import numpy as np
from websockets.asyncio.server import serve


def _to_wire(obj):
    if isinstance(obj, np.ndarray):
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str, b"shape": obj.shape}
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def _from_wire(obj):
    if b"__ndarray__" in obj:
        return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]), shape=obj[b"shape"])
    if b"__npgeneric__" in obj:
        return np.dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--dim", type=int, default=None)
    parser.add_argument("--metadata", default="{}")
    parser.add_argument("--require", default="")
    parser.add_argument("--state-key", default="observation.state")
    args = parser.parse_args()
    metadata = json.loads(args.metadata)
    required = [key for key in args.require.split(",") if key]

    async def handler(ws) -> None:
        await ws.send(msgpack.packb(metadata, default=_to_wire))
        count = 0
        while True:
            try:
                message = await ws.recv()
            except Exception:
                return
            try:
                obs = msgpack.unpackb(message, object_hook=_from_wire)
                missing = [key for key in required if key not in obs]
                if missing:
                    raise KeyError(f"observation lacks {missing}; has {sorted(obs)}")
                state = np.asarray(obs[args.state_key], dtype=np.float32)
                dim = args.dim or len(state)
                base = np.zeros(dim, dtype=np.float32)
                base[: min(dim, len(state))] = state[: min(dim, len(state))]
                ramp = np.linspace(0.0, 0.01 * args.horizon, args.horizon, dtype=np.float32)[:, None]
                actions = np.tile(base, (args.horizon, 1)) + ramp
                count += 1
                started = time.monotonic()
                reply = {"actions": actions, "server_timing": {"infer_ms": (time.monotonic() - started) * 1e3},
                         "count": np.int64(count)}
                await ws.send(msgpack.packb(reply, default=_to_wire))
            except Exception:
                await ws.send(traceback.format_exc())
                await ws.close(1011, "Internal server error")
                return

    async def run() -> None:
        async with serve(handler, "127.0.0.1", args.port, compression=None, max_size=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            print(f"listening {port}", flush=True)
            await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
