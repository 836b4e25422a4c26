"""Saved episodes as ``GET /api/v1/episodes`` lists them."""

from __future__ import annotations

from pydantic import Field

from .wire_model import WireModel

__all__ = ["EpisodePublic", "EpisodesPublic"]


class EpisodePublic(WireModel):
    index: int
    length: int = Field(description="Frames (parquet rows = video frames per camera)")
    duration_s: float
    task: str
    saved_at: float | None = Field(description="Unix time it became durable (this session only)")
    uploaded: bool
    extra: dict[str, object] = Field(description="Per-episode labels, e.g. outcome")
    cut: bool = Field(False, description="Cut early because the encoders fell behind")

    @property
    def outcome(self) -> str | None:
        """The label given at save (``success``, ``failure``, ``unknown``), if any."""
        value = self.extra.get("outcome")
        return value if isinstance(value, str) else None


class EpisodesPublic(WireModel):
    data: list[EpisodePublic]
    count: int
