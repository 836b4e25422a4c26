"""Camera previews: binary JPEG over WebSocket (header in api/preview.py), and single snapshots."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, HTTPException, WebSocket
from fastapi.responses import Response

from ..access import admit_websocket
from ..deps import HostDep, HubsDep
from ..preview import HEADER, PreviewHubs

router = APIRouter()


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
    viewer = hub.add_viewer(asyncio.get_running_loop())

    async def send() -> None:
        while True:
            packet = await viewer.next_packet()
            await websocket.send_bytes(packet)
            viewer.sent += 1

    sender = asyncio.create_task(send())
    try:
        while True:  # clients send nothing; this only notices the disconnect
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
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
