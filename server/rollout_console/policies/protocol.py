"""The Policy protocol (a chunk of future actions from one observation) and its guided extension.

``GuidedPolicy`` is what real-time chunking (``--inference.type=rtc``) needs: flow-matching or
diffusion policies that can inpaint a new chunk onto the unexecuted rest of the previous one
(Black et al. 2025, "Real-Time Execution of Action Chunking Flow Policies"). A plain ``Policy``
works with the sync engine and with naive asynchronous inference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

__all__ = ["SCHEDULES", "GuidedPolicy", "Policy", "Schedule", "is_guided"]

Schedule = Literal["ZEROS", "ONES", "LINEAR", "EXP"]
SCHEDULES: tuple[str, ...] = ("ZEROS", "ONES", "LINEAR", "EXP")


@runtime_checkable
class Policy(Protocol):
    """Predicts action chunks. Called from one thread at a time (the loop or the inference thread).

    ``predict_chunk`` takes a LeRobot-style observation frame (see ``FeatureLayout.policy_observation``)
    and returns a float32 array of shape (chunk_size, len(action_names)) in ``action_names`` order;
    row 0 is the action for the tick of the observation.
    """

    name: str
    chunk_size: int

    @property
    def action_names(self) -> Sequence[str]:
        """The action vector's joint names, in order (read-only: a policy's output layout is fixed)."""
        ...

    def reset(self) -> None: ...

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray: ...


@runtime_checkable
class GuidedPolicy(Policy, Protocol):
    """A policy that can predict a chunk guided toward a prefix (real-time chunking inpainting).

    ``prefix`` holds the rows of the previous chunk that overlap the new one in time, starting at the
    row that belongs to the observation's tick, in the same space and order as ``predict_chunk``
    returns (the policy maps them into its own model space). Only the rows actually available are
    passed; the policy never guides toward rows beyond ``len(prefix)`` (their weight is 0).

    ``inference_delay`` is the number of leading rows that will be executed from the previous chunk
    anyway (weight 1); ``execution_horizon`` is where the guided region ends (LeRobot's naming, the
    paper's H - s); ``schedule`` shapes the weights in between; ``max_guidance_weight`` clips the
    guidance weight (beta). With an empty prefix or ``max_guidance_weight == 0`` the result is an
    ordinary sample.
    """

    def predict_chunk_guided(
        self,
        observation: dict[str, Any],
        prefix: np.ndarray,
        inference_delay: int,
        execution_horizon: int,
        schedule: str = "LINEAR",
        max_guidance_weight: float = 10.0,
    ) -> np.ndarray: ...


def is_guided(policy: object) -> bool:
    """True when ``policy`` implements guided prediction (checked on the object, wrappers included)."""
    return callable(getattr(policy, "predict_chunk_guided", None))
