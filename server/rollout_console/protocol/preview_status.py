"""The per-size and per-viewer figures of a camera preview, in ``status.previews[camera]``."""

from __future__ import annotations

from pydantic import Field

from .wire_model import WireModel

__all__ = ["PreviewClientStatus", "PreviewSizeStatus"]


class PreviewSizeStatus(WireModel):
    """One preview size being encoded (or encoded before): each frame is encoded once per watched size."""

    scale: float = Field(description="Fraction of the camera's resolution: 1 (full), 0.5 or 0.25")
    width: int
    height: int
    viewers: int = Field(description="Viewers watching at this size now")
    encodes: int = Field(description="JPEG encodes at this size since start")
    encodes_per_s: float = Field(description="0 while nobody watches at this size")
    jpeg_bytes: int = Field(description="Size of the newest JPEG at this size")


class PreviewClientStatus(WireModel):
    """One viewer's socket: what its link took. A slow link gets fewer frames (the rest are skipped)."""

    scale: float
    bytes_per_s: float = Field(description="Bytes sent per second over the last 5 s")
    frames_per_s: float = Field(description="Frames sent per second over the last 5 s")
    sent: int = Field(description="Frames sent since the viewer connected")
    bytes: int = Field(description="Bytes sent since the viewer connected")
    skipped: int = Field(description="Frames replaced by a newer one before the link could take them")
    acknowledged: bool = Field(description="The client acknowledges frames (?ack=1): at most 3 in flight")
    acks: int = Field(description="Acknowledgements received")
    ack_ms: float | None = Field(description="Median time from sending a frame to its acknowledgement (last 30)")
