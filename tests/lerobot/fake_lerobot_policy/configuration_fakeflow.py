from __future__ import annotations

from dataclasses import dataclass, field

from lerobot.configs.policies import PreTrainedConfig
from lerobot.configs.types import NormalizationMode
from lerobot.optim.optimizers import AdamConfig
from lerobot.policies.rtc.configuration_rtc import RTCConfig


@PreTrainedConfig.register_subclass("fakeflow")
@dataclass
class FakeFlowConfig(PreTrainedConfig):
    chunk_size: int = 16
    n_action_steps: int = 16
    num_steps: int = 6
    seed: int = 0
    rtc_config: RTCConfig | None = None
    normalization_mapping: dict[str, NormalizationMode] = field(default_factory=lambda: {
        "STATE": NormalizationMode.MEAN_STD, "ACTION": NormalizationMode.MEAN_STD})

    @property
    def observation_delta_indices(self) -> None:
        return None

    @property
    def action_delta_indices(self) -> list[int]:
        return list(range(self.chunk_size))

    @property
    def reward_delta_indices(self) -> None:
        return None

    def get_optimizer_preset(self) -> AdamConfig:
        return AdamConfig(lr=1e-4)

    def get_scheduler_preset(self) -> None:
        return None

    def validate_features(self) -> None:
        if "observation.state" not in self.input_features:
            raise ValueError("fakeflow needs observation.state")
