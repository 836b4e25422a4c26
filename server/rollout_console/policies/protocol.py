"""The Policy protocol: a chunk of future actions from one observation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["Policy"]


@runtime_checkable
class Policy(Protocol):
    """Predicts action chunks. Called from one thread at a time (the loop or the inference thread).

    ``predict_chunk`` takes a LeRobot-style observation frame (see ``FeatureLayout.policy_observation``)
    and returns a float32 array of shape (chunk_size, len(action_names)) in ``action_names`` order;
    row 0 is the action for the tick of the observation.
    """

    name: str
    chunk_size: int
    action_names: Sequence[str]

    def reset(self) -> None: ...

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray: ...
