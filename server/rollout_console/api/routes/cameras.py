"""Camera previews: binary JPEG over WebSocket (header in api/preview.py), and single snapshots.

The socket takes an optional ``scale`` query parameter (1, 0.5 or 0.25 of the camera's resolution; full
by default): each size is encoded once per frame, whatever the number of viewers watching it. A client that
connects with ``ack=1`` acknowledges each frame it receives with a text message ``{"ack": seq}`` and has at
most ACK_WINDOW frames in flight, so a slow link gets fewer, fresher frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, WebSocket
from fastapi.responses import Response

from ..access import admit_websocket
from ..deps import HostDep, HubsDep
from ..preview import HEADER, PreviewHubs, parse_ack, parse_scale

router = APIRouter()

ACK_FORMAT = 'a camera socket takes only {"ack": <frame seq>} messages'


def _acknowledged_seq(message: Mapping[str, Any]) -> int | None:
    """The frame sequence number of an ``{"ack": seq}`` text message, None for anything else."""
    text = message.get("text")
    if text is None or len(text) > 64:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return None
    seq = body.get("ack") if isinstance(body, dict) and len(body) == 1 else None
    return seq if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= 0xFFFFFFFF else None


@router.websocket("/api/v1/cameras/{name}/ws")
async def camera_socket(websocket: WebSocket, name: str) -> None:
    if await admit_websocket(websocket) is None:
        return
    hubs: PreviewHubs = websocket.app.state.hubs
    hub = hubs.get(name)
    await websocket.accept()
    if hub is None:
        await websocket.close(code=4404, reason=f"unknown camera {name!r}")
        return
    try:
        scale = parse_scale(websocket.query_params.get("scale"))
        acknowledges = parse_ack(websocket.query_params.get("ack"))
    except ValueError as bad:
        await websocket.close(code=4400, reason=str(bad))
        return
    viewer = hub.add_viewer(asyncio.get_running_loop(), scale, acknowledges)

    async def send() -> None:
        # one task per viewer: a send that waits for a slow link holds up this viewer alone, and the
        # packets it misses meanwhile are replaced by newer ones (Viewer keeps only the newest)
        while True:
            packet = await viewer.next_packet()
            await websocket.send_bytes(packet)
            viewer.record_sent(packet)

    sender = asyncio.create_task(send())
    try:
        while True:  # acknowledgements (optional), and the disconnect
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            seq = _acknowledged_seq(message)
            if seq is None:
                await websocket.close(code=4400, reason=ACK_FORMAT)
                break
            viewer.acknowledge(seq)
    finally:
        hub.remove_viewer(viewer)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


@router.get(
    "/api/v1/cameras/{name}/snapshot.jpg",
    tags=["session"],
    operation_id="camera-snapshot",
    responses={200: {"content": {"image/jpeg": {}}}, 404: {"description": "Unknown camera or no frame yet"}},
    response_class=Response,
)
async def snapshot(name: str, hubs: HubsDep, host: HostDep) -> Response:
    """The latest frame as a JPEG; ``X-Capture-Time`` is its capture time (Unix seconds). Works while idle."""
    hub = hubs.get(name)
    frame = host.latest_frame(name) if hub else None
    if hub is None or frame is None:
        raise HTTPException(404, f"unknown camera {name!r}" if hub is None else f"camera {name!r} has no frame yet")
    packet = await asyncio.to_thread(hub.encode, frame)
    return Response(packet[HEADER.size :], media_type="image/jpeg",
                    headers={"X-Capture-Time": f"{frame.captured_wall:.6f}", "Cache-Control": "no-store"})
