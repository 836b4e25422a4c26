from __future__ import annotations

import torch
from lerobot.policies.pretrained import PreTrainedPolicy
from lerobot.policies.rtc.modeling_rtc import RTCProcessor
from torch import Tensor, nn

from .configuration_fakeflow import FakeFlowConfig


class FakeFlowPolicy(PreTrainedPolicy):
    """Denoises noise into ``target = 0.5 * tanh(state)`` (normalised units, one row per step), by Euler
    steps from time 1 (noise) to 0 (data) like Pi0; guided by LeRobot's RTCProcessor when enabled."""

    config_class = FakeFlowConfig
    name = "fakeflow"

    def __init__(self, config: FakeFlowConfig, **kwargs) -> None:
        super().__init__(config)
        self.config = config
        self.scale = nn.Parameter(torch.tensor(0.5))  # something to save and load
        self.rtc_processor: RTCProcessor | None = None
        self.init_rtc_processor()
        self.calls: list[dict] = []

    def init_rtc_processor(self) -> None:
        rtc = self.config.rtc_config
        self.rtc_processor = RTCProcessor(rtc) if rtc is not None else None

    def get_optim_params(self) -> dict:
        return {"params": self.parameters()}

    def reset(self) -> None:
        pass

    def forward(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict]:
        return torch.zeros(()), {}

    def select_action(self, batch: dict[str, Tensor], **kwargs) -> Tensor:
        return self.predict_action_chunk(batch, **kwargs)[:, 0]

    def predict_action_chunk(self, batch: dict[str, Tensor], **kwargs) -> Tensor:
        self.calls.append({k: v for k, v in kwargs.items()})
        state = batch["observation.state"]
        steps, horizon = self.config.num_steps, self.config.chunk_size
        target = (self.scale * torch.tanh(state)).unsqueeze(1).expand(state.shape[0], horizon, state.shape[1])
        generator = torch.Generator().manual_seed(self.config.seed)
        x = torch.randn(target.shape, generator=generator).to(state.device)
        dt = -1.0 / steps
        guided = self.rtc_processor is not None and self.config.rtc_config.enabled
        for step in range(steps):
            time = 1.0 + step * dt

            def denoise(x_t: Tensor, time: float = time) -> Tensor:
                return (x_t - target) / time  # the velocity whose clean estimate x - t v is the target

            if guided:
                velocity = self.rtc_processor.denoise_step(
                    x_t=x, prev_chunk_left_over=kwargs.get("prev_chunk_left_over"),
                    inference_delay=kwargs.get("inference_delay"), time=time,
                    original_denoise_step_partial=denoise, execution_horizon=kwargs.get("execution_horizon"),
                )
            else:
                velocity = denoise(x)
            x = x + dt * velocity
        return x
