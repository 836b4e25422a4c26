"""RemotePolicy: the Policy protocol over openpi's WebSocket protocol (``--policy.type=remote``).

``predict_chunk`` runs on the inference worker (rtc engine) or the control thread (sync engine, which
stalls by definition); it blocks on the network for at most the link's request timeout. The server
may keep no state between requests, so ``reset`` sends nothing (as openpi-client).

``GuidedRemotePolicy`` is used when the server advertises the RTC extension (see ``wire.py``): the
request then carries the unexecuted prefix and the delay, and the server inpaints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import InferenceError
from .codec import packb
from .keys import ObservationMapper
from .link import RemoteLink
from .wire import META_ACTION_DIM, META_ACTION_HORIZON, META_RTC, RTC_FIELD

__all__ = ["GuidedRemotePolicy", "RemotePolicy", "RemoteShapeError"]


class RemoteShapeError(InferenceError):
    """The server's actions do not fit this robot; retrying cannot help (the engine fails at once)."""

    fatal = True


class RemotePolicy:
    """A policy served elsewhere; ``name`` is the server URL so notices say which server."""

    def __init__(self, link: RemoteLink, mapper: ObservationMapper, action_names: Sequence[str],
                 action_key: str = "actions") -> None:
        self.link = link
        self.mapper = mapper
        self.action_names = tuple(action_names)
        self.action_key = action_key
        self.name = f"remote {link.url}"
        self.server = link.url
        horizon = link.metadata.get(META_ACTION_HORIZON)
        self.chunk_size = int(horizon) if isinstance(horizon, int) and horizon > 0 else 0
        self.supports_rtc = False
        self.max_action_age_ms: float | None = None  # set from --policy.max_action_age_ms

    def reset(self) -> None:
        """Nothing to send: the server keeps no per-robot state between requests."""

    def close(self) -> None:
        self.link.close()

    def connection_status(self) -> dict[str, Any]:
        return self.link.health()

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray:
        return self._ask(self.mapper(observation))

    def _ask(self, request: dict[str, Any]) -> np.ndarray:
        reply = self.link.request(packb(request))
        if not isinstance(reply, dict) or self.action_key not in reply:
            keys = sorted(str(k) for k in reply) if isinstance(reply, dict) else type(reply).__name__
            raise RemoteShapeError(f"policy server {self.server} replied without {self.action_key!r} "
                                   f"(got {keys}); set --policy.action_key")
        actions = np.asarray(reply[self.action_key])
        if actions.ndim == 1:
            actions = actions[None, :]
        dim = len(self.action_names)
        if actions.ndim != 2 or actions.shape[1] != dim or len(actions) == 0 or actions.dtype.kind not in "fiu":
            raise RemoteShapeError(
                f"policy server {self.server} returned {self.action_key} of shape {tuple(actions.shape)} "
                f"({actions.dtype}); this robot needs (H, {dim}) for {', '.join(self.action_names)}")
        self.chunk_size = max(self.chunk_size, len(actions))
        return actions.astype(np.float32)


class GuidedRemotePolicy(RemotePolicy):
    """A remote policy whose server inpaints (RTC extension advertised in its metadata)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.supports_rtc = True

    def predict_chunk_guided(self, observation: dict[str, Any], prefix: np.ndarray, inference_delay: int,
                             execution_horizon: int, schedule: str = "LINEAR",
                             max_guidance_weight: float = 10.0) -> np.ndarray:
        request = self.mapper(observation)
        request[RTC_FIELD] = {
            "prefix": np.ascontiguousarray(prefix, dtype=np.float32),
            "inference_delay": int(inference_delay),
            "execution_horizon": int(execution_horizon),
            "schedule": str(schedule),
            "max_guidance_weight": float(max_guidance_weight),
        }
        return self._ask(request)


def advertises_rtc(metadata: dict[str, Any]) -> bool:
    rtc = metadata.get(META_RTC)
    return isinstance(rtc, dict) and rtc.get("version") == 1


def metadata_mismatch(metadata: dict[str, Any], action_names: Sequence[str], fps: float) -> str | None:
    """Why the server's advertised actions (shape, names, rate) do not fit the robot, or None."""
    served_fps = metadata.get("fps")
    if isinstance(served_fps, (int, float)) and abs(float(served_fps) - fps) > 1e-6:
        return f"times its chunks at {served_fps:g} fps but the session runs at {fps:g}: set --fps={served_fps:g}"
    dim = metadata.get(META_ACTION_DIM)
    if isinstance(dim, int) and dim != len(action_names):
        return (f"serves actions of dimension {dim} but this robot has {len(action_names)} "
                f"({', '.join(action_names)})")
    names = metadata.get("action_names")
    if isinstance(names, (list, tuple)) and list(names) != list(action_names):
        return f"serves actions {list(names)} but this robot's are {list(action_names)}"
    horizon = metadata.get(META_ACTION_HORIZON)
    if horizon is not None and (not isinstance(horizon, int) or horizon < 1):
        return f"advertises an action horizon of {horizon!r}"
    return None
