"""FlowNet: a small conditional velocity field over a whole action chunk (torch, CPU-friendly).

The observation (normalised joint state, task state and optionally a low-resolution camera image)
is encoded once into a conditioning vector; the chunk (H x M, flattened) goes through residual MLP
blocks whose LayerNorm outputs are modulated by the conditioning and the flow time (adaLN). Nothing
couples samples in a batch (no BatchNorm), so batched guided sampling is exact.

By default the network predicts the clean chunk D(A_tau) (``prediction="sample"``) and the velocity
is ``(D - A_tau) / (1 - tau)``, so the clean estimate ``A_hat = A_tau + (1 - tau) v`` is exactly D and
the network never has to carry the 300-dimensional noise through its narrower hidden layers.
``prediction="velocity"`` regresses ``v = A - eps`` directly (the paper's formulation). Both are the
same flow; only the parameterisation and the loss weighting differ.

Normalisation statistics are buffers of the module, so they are saved with the weights.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .config import FlowConfig

__all__ = ["FlowNet"]

_STD_FLOOR = 1e-3


class _ImageEncoder(nn.Module):
    def __init__(self, channels: tuple[int, ...], out_dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        previous = 3
        for width in channels:
            layers += [nn.Conv2d(previous, width, kernel_size=3, stride=2, padding=1), nn.SiLU()]
            previous = width
        self.convs = nn.Sequential(*layers)
        self.proj = nn.Linear(previous, out_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``images``: (B, 3, h, w) floats in [0, 1]."""
        features = self.convs(images * 2.0 - 1.0)
        return self.proj(features.mean(dim=(2, 3)))


class _Block(nn.Module):
    def __init__(self, dim: int, inner: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.modulation = nn.Linear(cond_dim, 2 * dim)
        self.fc1 = nn.Linear(dim, inner)
        self.fc2 = nn.Linear(inner, dim)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, h: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale, shift = self.modulation(F.silu(cond)).chunk(2, dim=-1)
        z = self.norm(h) * (1.0 + scale) + shift
        return h + self.fc2(F.silu(self.fc1(z)))


class FlowNet(nn.Module):
    """Velocity field ``v(A_tau, obs, tau)`` in normalised action space (paper time convention)."""

    # buffers (``register_buffer`` below), declared so they read as tensors
    time_freqs: torch.Tensor
    state_mean: torch.Tensor
    state_std: torch.Tensor
    env_mean: torch.Tensor
    env_std: torch.Tensor
    action_mean: torch.Tensor
    action_std: torch.Tensor

    def __init__(self, config: FlowConfig) -> None:
        super().__init__()
        if config.prediction not in ("sample", "velocity"):
            raise ValueError(f"unknown prediction {config.prediction!r} (sample or velocity)")
        self.config = config
        horizon, action_dim = config.chunk_size, config.action_dim
        obs_dim = config.state_dim + config.env_dim
        self.image_encoder: _ImageEncoder | None = None
        if config.image_key:
            self.image_encoder = _ImageEncoder(config.image_channels, config.image_feature_dim)
            obs_dim += config.image_feature_dim
        self.obs_encoder = nn.Sequential(
            nn.Linear(obs_dim, 2 * config.cond_dim), nn.SiLU(), nn.Linear(2 * config.cond_dim, config.cond_dim)
        )
        self.time_encoder = nn.Sequential(
            nn.Linear(config.time_embed_dim, config.cond_dim), nn.SiLU(), nn.Linear(config.cond_dim, config.cond_dim)
        )
        self.action_in = nn.Linear(horizon * action_dim, config.hidden_dim)
        self.blocks = nn.ModuleList(
            _Block(config.hidden_dim, config.block_dim, config.cond_dim) for _ in range(config.num_blocks)
        )
        self.out_norm = nn.LayerNorm(config.hidden_dim)
        self.action_out = nn.Linear(config.hidden_dim, horizon * action_dim)
        half = config.time_embed_dim // 2
        self.register_buffer(
            "time_freqs", torch.exp(torch.linspace(0.0, math.log(1000.0), half)), persistent=False
        )
        for name, size in (("state", config.state_dim), ("env", config.env_dim), ("action", action_dim)):
            self.register_buffer(f"{name}_mean", torch.zeros(size))
            self.register_buffer(f"{name}_std", torch.ones(size))

    # ------------------------------------------------------------ normalisation

    def set_stats(self, stats: dict[str, tuple[torch.Tensor, torch.Tensor]]) -> None:
        """Store (mean, std) per ``state``/``env``/``action``; std is floored to stay invertible."""
        for name, (mean, std) in stats.items():
            getattr(self, f"{name}_mean").copy_(torch.as_tensor(mean, dtype=torch.float32))
            getattr(self, f"{name}_std").copy_(torch.as_tensor(std, dtype=torch.float32).clamp_min(_STD_FLOOR))

    def normalize_actions(self, actions: torch.Tensor) -> torch.Tensor:
        return (actions - self.action_mean) / self.action_std

    def unnormalize_actions(self, actions: torch.Tensor) -> torch.Tensor:
        return actions * self.action_std + self.action_mean

    # ------------------------------------------------------------ forward

    def encode(self, state: torch.Tensor, env: torch.Tensor, image: torch.Tensor | None = None) -> torch.Tensor:
        """Observation -> conditioning (B, cond_dim). Raw units in; normalised here.

        ``image``: (B, 3, h, w) floats in [0, 1] at ``config.image_size`` when the model uses one.
        """
        parts = [(state - self.state_mean) / self.state_std]
        if self.config.env_dim:
            parts.append((env - self.env_mean) / self.env_std)
        if self.image_encoder is not None:
            if image is None:
                raise ValueError(f"this policy needs the image {self.config.image_key}")
            parts.append(self.image_encoder(image))
        return self.obs_encoder(torch.cat(parts, dim=-1))

    def _time_embedding(self, tau: torch.Tensor) -> torch.Tensor:
        angles = tau.unsqueeze(-1) * self.time_freqs
        return torch.cat((torch.sin(angles), torch.cos(angles)), dim=-1)

    def _network(self, x: torch.Tensor, cond: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        c = cond + self.time_encoder(self._time_embedding(tau))
        h = self.action_in(x.reshape(batch, -1))
        for block in self.blocks:
            h = block(h, c)
        return self.action_out(self.out_norm(h)).reshape(x.shape)

    def velocity(self, x: torch.Tensor, cond: torch.Tensor, tau: torch.Tensor | float) -> torch.Tensor:
        """``x``: (B, H, M) noisy normalised chunk; ``tau``: scalar or (B,) in [0, 1)."""
        batch = x.shape[0]
        if not torch.is_tensor(tau):
            tau = torch.full((batch,), float(tau), dtype=x.dtype, device=x.device)
        out = self._network(x, cond, tau)
        if self.config.prediction == "velocity":
            return out
        return (out - x) / (1.0 - tau).clamp_min(1e-3).view(-1, 1, 1)

    def loss(self, cond: torch.Tensor, actions: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Flow-matching loss for normalised chunks ``actions`` (B, H, M)."""
        noise = torch.randn(actions.shape, generator=generator, dtype=actions.dtype)
        tau = torch.rand((actions.shape[0],), generator=generator, dtype=actions.dtype)
        t = tau.view(-1, 1, 1)
        x = t * actions + (1.0 - t) * noise
        out = self._network(x, cond, tau)
        if self.config.prediction == "velocity":
            return F.mse_loss(out, actions - noise)
        return F.mse_loss(out, actions)
