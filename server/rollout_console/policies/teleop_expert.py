"""ExpertLeaderDriver: moves the sim leader arm the way a human expert would (tests, demos).

With ``--teleop.driver=expert`` the corrections of a DAgger session are made by the scripted expert
through the leader arm, so the whole human-in-the-loop path (handover, recording with
``intervention=True``) runs unattended.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..features import FeatureLayout
from ..hardware.protocols import DrivableLeader
from .scripted import ScriptedExpert

__all__ = ["ExpertLeaderDriver"]


class ExpertLeaderDriver:
    """One expert action per control tick, sent to the leader as slider targets would be."""

    def __init__(self, leader: DrivableLeader, layout: FeatureLayout, fps: float) -> None:
        self.leader = leader
        self.layout = layout
        self.expert = ScriptedExpert(layout.state_names, layout.env_names, layout.action_names, fps=fps,
                                     chunk_size=10)
        self._queue: list[np.ndarray] = []

    def reset(self) -> None:
        self._queue.clear()

    def drive(self, observation: dict[str, Any]) -> None:
        if not self._queue:
            frame = self.layout.policy_observation(observation)
            self._queue = list(self.expert.predict_chunk(frame))
        action = self._queue.pop(0)
        self.leader.set_targets(self.layout.action_dict(action), moved_by="expert")
