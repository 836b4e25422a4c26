"""A preview viewer on a slow link, run as its own process by the preview tests and the benchmark.

It speaks just enough WebSocket (RFC 6455) over a plain socket with a small receive buffer and reads at
most RATE bytes per second from it, so the server meets a real slow link: its sends wait for room, as
they would behind a thin uplink. RATE 0 never reads (a stalled client). It answers pings, acknowledges
each frame as the page does (``?ack=1``, then {"ack": seq}; ``noack`` as a third argument: never), and
prints one JSON line per complete frame: {"seq", "bytes": message size, "age_ms": capture to receipt}.

    python preview_slow_client.py ws://127.0.0.1:PORT/api/v1/cameras/NAME/ws RATE [noack]
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.parse

RECEIVE_BUFFER = 4096
HEADER = struct.Struct("<4sId")


def handshake(url: str) -> socket.socket:
    parts = urllib.parse.urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)  # before connect: a small window
    sock.connect((parts.hostname, parts.port))
    key = base64.b64encode(os.urandom(16)).decode()
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    sock.sendall((f"GET {target} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: not a byte of the first frame is read here
        byte = sock.recv(1)
        if not byte:
            raise SystemExit(f"connection closed during the handshake: {head!r}")
        head += byte
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise SystemExit(f"handshake refused: {head.decode(errors='replace')}")
    return sock


def send_masked(sock: socket.socket, opcode: int, payload: bytes) -> None:
    """A client-to-server frame (always masked); payloads here are under 126 bytes."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


def next_frame(buffer: bytearray) -> tuple[bool, int, bytes] | None:
    """(final, opcode, payload) of the first complete frame in ``buffer`` (removed from it), or None."""
    if len(buffer) < 2:
        return None
    length, offset = buffer[1] & 0x7F, 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length, offset = struct.unpack_from(">H", buffer, 2)[0], 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length, offset = struct.unpack_from(">Q", buffer, 2)[0], 10
    if len(buffer) < offset + length:
        return None
    final, opcode = bool(buffer[0] & 0x80), buffer[0] & 0x0F
    payload = bytes(buffer[offset:offset + length])
    del buffer[:offset + length]
    return final, opcode, payload


def main(url: str, rate: float, acknowledge: bool) -> None:
    if acknowledge:
        url += ("&" if "?" in url else "?") + "ack=1"
    sock = handshake(url)
    print(json.dumps({"open": True}), flush=True)
    if rate <= 0:
        while True:  # a stalled client: connected, reading nothing, until it is killed
            time.sleep(3600)
    buffer = bytearray()
    message = bytearray()
    started, taken = time.monotonic(), 0
    while True:
        allowance = int(rate * (time.monotonic() - started)) - taken
        if allowance <= 0:
            time.sleep(0.02)  # the throttle itself: this is the slow link
            continue
        data = sock.recv(min(allowance, RECEIVE_BUFFER))
        if not data:
            return
        taken += len(data)
        buffer += data
        while (frame := next_frame(buffer)) is not None:
            final, opcode, payload = frame
            if opcode == 0x9:
                send_masked(sock, 0xA, payload)
            elif opcode == 0x8:
                code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
                print(json.dumps({"closed": code}), flush=True)
                return
            elif opcode in (0x0, 0x2):
                message += payload
                if final:
                    _, seq, captured = HEADER.unpack_from(message)
                    if acknowledge:
                        send_masked(sock, 0x1, json.dumps({"ack": seq}).encode())
                    print(json.dumps({"seq": seq, "bytes": len(message), "age_ms": (time.time() - captured) * 1000}),
                          flush=True)
                    message.clear()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), acknowledge=sys.argv[3:4] != ["noack"])
