"""Real-time chunking guidance for flow-matching samplers (inpainting a chunk onto a prefix).

Time convention (the paper's and the Kinetix reference's): tau = 0 is pure noise, tau = 1 is data.
Training interpolates ``A_tau = tau * A + (1 - tau) * eps`` and regresses ``v = A - eps``; sampling
integrates ``A <- A + v / n`` from tau = 0 in ``n`` Euler steps. The one-step clean estimate is
``A_hat = A_tau + (1 - tau) * v``.

Guided step (PiGDM-style): ``v_guided = v + w(tau) * g`` where ``g = (dA_hat/dA_tau)^T e`` is a
vector-Jacobian product with the constant cotangent ``e = W * (Y - A_hat)``, and
``w(tau) = min(beta, tau / (1 - tau) + (1 - tau) / tau)`` (beta at tau = 0). The Jacobian-free variant
(LeRobot's behaviour) uses ``g = e``.

Prefix weights W (one per chunk row) follow LeRobot's schedules with start = inference delay,
end = execution horizon; rows beyond the real prefix always get W = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .protocol import SCHEDULES

__all__ = [
    "guidance_gradient",
    "guidance_weight",
    "guided_sample",
    "prefix_weights",
]

Velocity = Callable[[torch.Tensor, float], torch.Tensor]
_E_MINUS_1 = math.e - 1.0


def prefix_weights(
    start: int, end: int, total: int, schedule: str = "LINEAR", prefix_len: int | None = None
) -> np.ndarray:
    """Per-row guidance weights W (shape ``(total,)``, float32, values in [0, 1]).

    ``start`` rows (the frozen region, actions executed from the old chunk while inference runs) get 1;
    rows ``start <= i < end`` follow ``schedule``; rows ``i >= end`` get 0. As in LeRobot,
    ``start`` is first clamped to ``end``. ``prefix_len`` is the number of rows actually available in
    the prefix: every row at or beyond it gets W = 0 (padding is never guided toward).
    """
    schedule = schedule.upper()
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown prefix attention schedule {schedule!r}; use one of {', '.join(SCHEDULES)}")
    if total < 0:
        raise ValueError("total must be >= 0")
    end_eff = max(0, min(end, total))
    start_eff = max(0, min(start, end_eff))
    weights = np.zeros(total, dtype=np.float64)
    weights[:start_eff] = 1.0
    if end_eff > start_eff and schedule != "ZEROS":
        rows = np.arange(start_eff, end_eff, dtype=np.float64)
        if schedule == "ONES":
            weights[start_eff:end_eff] = 1.0
        else:
            ramp = (end_eff - rows) / (end_eff - start_eff + 1)
            if schedule == "EXP":
                ramp = ramp * np.expm1(ramp) / _E_MINUS_1
            weights[start_eff:end_eff] = ramp
    if prefix_len is not None:
        weights[max(0, prefix_len):] = 0.0
    return weights.astype(np.float32)


def guidance_weight(tau: float, max_guidance_weight: float, prior_std: float = 1.0) -> float:
    """``min(beta, (1 - tau) / (tau * r_tau^2))`` with ``r_tau^2 = (1-tau)^2 / (tau^2 + (1-tau)^2)``.

    Closed form ``tau/(1-tau) + (1-tau)/tau``; infinite at tau = 0 and tau = 1, so beta clips it.
    ``prior_std`` (sigma_d, default 1 = the paper) generalises r_tau^2 to a data prior narrower than unit
    variance: ``r_tau^2 = (1-tau)^2 sigma^2 / ((1-tau)^2 + sigma^2 tau^2)``, which makes guidance exact
    for a Gaussian prior of that width (stronger mid-trajectory guidance for sigma < 1).
    """
    if tau <= 0.0 or tau >= 1.0:
        return float(max_guidance_weight)
    var = prior_std * prior_std
    weight = ((1.0 - tau) ** 2 + var * tau * tau) / (tau * (1.0 - tau) * var)
    return float(min(max_guidance_weight, weight))


def guidance_gradient(
    velocity: Velocity,
    x: torch.Tensor,
    tau: float,
    target: torch.Tensor,
    weights: torch.Tensor,
    jacobian_free: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One guided evaluation at ``x`` (batch, H, M): returns ``(v, A_hat, g)``, all detached.

    ``weights`` has shape (H,) or (batch, H) and broadcasts over the action dimension. The VJP is one
    reverse pass through ``velocity`` with the cotangent treated as a constant; parameters' ``.grad``
    are never touched (``torch.autograd.grad`` does not accumulate). Works inside an outer ``no_grad``.
    """
    w = weights if weights.dim() == 2 else weights.unsqueeze(0)
    w = w.to(x.dtype).unsqueeze(-1)
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        v = velocity(xg, tau)
        a_hat = xg + (1.0 - tau) * v
        error = (w * (target - a_hat)).detach()
        if jacobian_free:
            g = error
        else:
            (g,) = torch.autograd.grad(a_hat, xg, grad_outputs=error)
    return v.detach(), a_hat.detach(), g.detach()


def guided_sample(
    velocity: Velocity,
    noise: torch.Tensor,
    num_steps: int,
    target: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
    max_guidance_weight: float = 0.0,
    jacobian_free: bool = False,
    trace: list[torch.Tensor] | None = None,
    prior_std: float = 1.0,
) -> torch.Tensor:
    """Euler-integrate from ``noise`` (batch, H, M) to a chunk, guided when ``target`` is given.

    Without a target this is the vanilla sampler. With one, every step runs the guided evaluation
    (even when beta or W are zero, which then reproduces the vanilla result exactly). ``trace``, when
    given, receives the clean estimate ``A_hat`` of every step (tests use it to check conventions).
    """
    if num_steps < 1:
        raise ValueError("num_steps must be >= 1")
    x = noise.detach().clone()
    dt = 1.0 / num_steps
    guided = target is not None
    if guided and weights is None:
        raise ValueError("guided sampling needs prefix weights")
    for k in range(num_steps):
        tau = k / num_steps
        if guided:
            assert target is not None and weights is not None
            v, a_hat, g = guidance_gradient(velocity, x, tau, target, weights, jacobian_free)
            w = guidance_weight(tau, max_guidance_weight, prior_std)
            x = x + dt * (v + w * g)
        else:
            with torch.no_grad():
                v = velocity(x, tau)
                a_hat = x + (1.0 - tau) * v
            x = x + dt * v
        if trace is not None:
            trace.append(a_hat.detach().clone())
    return x.detach()
