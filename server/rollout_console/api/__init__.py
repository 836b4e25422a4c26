"""HTTP and WebSocket API around one Session."""

from .app import create_app

__all__ = ["create_app"]
