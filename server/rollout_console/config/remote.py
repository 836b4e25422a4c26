"""``--policy.type=remote``: a policy served by a GPU machine over openpi's WebSocket protocol.

The API key never appears here: it is read from the environment (``ROLLOUT_POLICY_API_KEY``) when
the policy connects, so it cannot leak through ``GET /api/v1/config``, ``--help`` or a config file.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from .base import StrictModel

__all__ = ["RemotePolicyConfig", "parse_rename_map"]


def parse_rename_map(value: object) -> object:
    """``a=b,c=d`` on the command line, or a mapping (same syntax as LeRobot's ``--policy.rename_map``)."""
    if not isinstance(value, str):
        return value
    mapping = {}
    for pair in (part.strip() for part in value.split(",")):
        if not pair:
            continue
        source, sep, target = pair.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ValueError(f"{pair!r} is not old=new (or give a mapping: '{{old: new}}')")
        mapping[source.strip()] = target.strip()
    return mapping


class RemotePolicyConfig(StrictModel):
    """A policy on a policy server (openpi's ``serve_policy.py``, ``rollout-console serve-policy``, ...)."""

    type: Literal["remote"] = "remote"
    url: str = Field(description="Policy server, ws://HOST:PORT or wss://HOST:PORT (API key: env "
                     "ROLLOUT_POLICY_API_KEY)")
    rename_map: dict[str, str] = Field(
        default_factory=dict,
        description="Console key -> server key, e.g. '{observation.images.front: observation/image, "
        "observation.state: observation/state, task: prompt}'",
    )
    action_key: str = Field("actions", min_length=1, description="Key of the action chunk in the server's reply")
    image_size: tuple[int, int] | None = Field(
        None, description="Resize camera images (keeping aspect, padded) to HEIGHTxWIDTH before sending, e.g. 224"
    )
    max_action_age_ms: float = Field(
        150.0, gt=0, le=10_000, description="An action later than this for its tick is never sent (skipped)"
    )
    latency_budget_ms: float = Field(
        250.0, gt=0, le=60_000, description="Round trips slower than this show the connection as degraded"
    )
    stall_after_ms: float = Field(
        1000.0, gt=0, le=60_000, description="A request unanswered this long shows the connection as stalled"
    )
    request_timeout_s: float = Field(
        5.0, gt=0, le=600, description="A request unanswered this long drops the connection (then reconnect)"
    )
    connect_timeout_s: float = Field(5.0, gt=0, le=600, description="Handshake and metadata timeout")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ValueError("must be ws://HOST:PORT or wss://HOST:PORT")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials: put the API key in the environment variable "
                             "ROLLOUT_POLICY_API_KEY")
        return value

    @field_validator("rename_map", mode="before")
    @classmethod
    def _rename_pairs(cls, value: object) -> object:
        return parse_rename_map(value)

    @field_validator("image_size", mode="before")
    @classmethod
    def _size(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value, value)
        if isinstance(value, str):
            text = value.lower().replace(" ", "")
            height, sep, width = text.partition("x")
            if not height.isdigit() or (sep and not width.isdigit()):
                raise ValueError(f"{value!r} is not N or HEIGHTxWIDTH")
            return (int(height), int(width or height))
        return value

    @field_validator("image_size")
    @classmethod
    def _positive(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and not all(1 <= n <= 4096 for n in value):
            raise ValueError("height and width must be 1..4096")
        return value
