"""Remote policies: openpi's WebSocket + msgpack-numpy protocol (client side) with our RTC extension."""

from .codec import CodecError, packb, unpackb
from .link import RemoteError, RemoteLink, RemoteRefused
from .policy import GuidedRemotePolicy, RemotePolicy, RemoteShapeError

__all__ = ["CodecError", "GuidedRemotePolicy", "RemoteError", "RemoteLink", "RemotePolicy", "RemoteRefused",
           "RemoteShapeError", "packb", "unpackb"]
