"""The base of every wire model: unknown fields are kept, so an older client reads a newer server."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["WireModel"]


class WireModel(BaseModel):
    """A JSON object of the API. Extra fields are allowed (forward compatibility) and kept on the object."""

    model_config = ConfigDict(extra="allow")
