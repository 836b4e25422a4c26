"""RTC guidance math: prefix weights, guidance weight, the VJP and the sampler's conventions."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rollout_console.policies.guidance import guidance_gradient, guidance_weight, guided_sample, prefix_weights


# ------------------------------------------------------------------ prefix weights


def test_linear_and_exp_check_values() -> None:
    np.testing.assert_allclose(prefix_weights(2, 6, 10, "LINEAR"), [1, 1, 0.8, 0.6, 0.4, 0.2, 0, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(prefix_weights(2, 6, 10, "EXP"), [1, 1, 0.571, 0.287, 0.114, 0.026, 0, 0, 0, 0],
                               atol=1e-3)


def test_zeros_is_the_hard_mask_and_ones_covers_the_overlap() -> None:
    np.testing.assert_array_equal(prefix_weights(2, 6, 10, "ZEROS"), [1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(prefix_weights(2, 6, 10, "ONES"), [1, 1, 1, 1, 1, 1, 0, 0, 0, 0])


def test_exp_with_end_h_minus_s_is_paper_eq5() -> None:
    weights = prefix_weights(6, 50 - 25, 50, "EXP")
    expected = {6: 0.877, 8: 0.663, 10: 0.488, 12: 0.346, 15: 0.189, 18: 0.085, 20: 0.041, 22: 0.014, 24: 0.0015}
    for row, value in expected.items():
        assert weights[row] == pytest.approx(value, abs=6e-4), row
    assert (weights[:6] == 1).all() and (weights[25:] == 0).all()
    assert np.all(np.diff(weights) <= 0)


@pytest.mark.parametrize("schedule", ["ZEROS", "ONES", "LINEAR", "EXP"])
def test_edge_cases(schedule: str) -> None:
    # d = 0: no frozen rows, the ramp starts just below 1
    w = prefix_weights(0, 6, 10, schedule)
    assert w.shape == (10,) and w.dtype == np.float32
    assert (w[6:] == 0).all() and (w <= 1).all() and (w >= 0).all()
    # d >= end: start is clamped to end, rows < end are frozen
    np.testing.assert_array_equal(prefix_weights(8, 6, 10, schedule), [1] * 6 + [0] * 4)
    # end > H: clamped to H
    assert prefix_weights(2, 99, 10, schedule)[:2].tolist() == [1, 1]
    # an empty prefix is never guided toward
    assert (prefix_weights(3, 8, 10, schedule, prefix_len=0) == 0).all()
    # padded rows (>= prefix_len) always get 0, real rows keep their weight
    full = prefix_weights(2, 9, 10, schedule)
    cut = prefix_weights(2, 9, 10, schedule, prefix_len=4)
    np.testing.assert_array_equal(cut[:4], full[:4])
    assert (cut[4:] == 0).all()


def test_schedule_names_are_checked_and_case_insensitive() -> None:
    np.testing.assert_array_equal(prefix_weights(1, 3, 5, "linear"), prefix_weights(1, 3, 5, "LINEAR"))
    with pytest.raises(ValueError, match="schedule"):
        prefix_weights(1, 3, 5, "COSINE")


# ------------------------------------------------------------------ guidance weight


def test_guidance_weights_of_the_paper() -> None:
    beta = 100.0
    assert [round(guidance_weight(k / 5, beta), 2) for k in range(5)] == [100.0, 4.25, 2.17, 2.17, 4.25]
    assert [round(guidance_weight(k / 10, beta), 2) for k in range(10)] == [
        100.0, 9.11, 4.25, 2.76, 2.17, 2.0, 2.17, 2.76, 4.25, 9.11]


def test_guidance_weight_is_clipped_finite_and_symmetric() -> None:
    assert guidance_weight(0.0, 5.0) == 5.0
    for tau in np.linspace(0.01, 0.99, 50):
        assert guidance_weight(tau, 5.0) <= 5.0
        assert guidance_weight(tau, 1e9) == pytest.approx(guidance_weight(1 - tau, 1e9))
    assert guidance_weight(0.5, 1e9) == pytest.approx(2.0)
    assert guidance_weight(0.3, 0.0) == 0.0


def test_a_narrower_prior_guides_harder() -> None:
    for tau in (0.1, 0.5, 0.9):
        assert guidance_weight(tau, 1e9, prior_std=1.0) == pytest.approx(tau / (1 - tau) + (1 - tau) / tau)
        assert guidance_weight(tau, 1e9, prior_std=0.5) > guidance_weight(tau, 1e9)
    # sigma = 0.5 at tau = 0.5: ((0.25) + 0.25 * 0.25) / (0.25 * 0.25) = 5
    assert guidance_weight(0.5, 1e9, prior_std=0.5) == pytest.approx(5.0)
    assert guidance_weight(0.5, 3.0, prior_std=0.5) == 3.0


# ------------------------------------------------------------------ VJP and sampler


class _TinyVelocity(nn.Module):
    """A small nonlinear velocity field over (B, H, M) chunks whose output depends on x."""

    def __init__(self, horizon: int = 4, dim: int = 2) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(horizon * dim + 1, 16), nn.Tanh(), nn.Linear(16, horizon * dim))

    def forward(self, x: torch.Tensor, tau: float) -> torch.Tensor:
        t = torch.full((x.shape[0], 1), tau, dtype=x.dtype)
        return self.net(torch.cat((x.reshape(x.shape[0], -1), t), dim=1)).reshape(x.shape)


def _setup(horizon: int = 4, dim: int = 2) -> tuple[_TinyVelocity, torch.Tensor, torch.Tensor, torch.Tensor]:
    model = _TinyVelocity(horizon, dim).double()
    gen = torch.Generator().manual_seed(1)
    x = torch.randn((1, horizon, dim), generator=gen, dtype=torch.float64)
    target = torch.randn((1, horizon, dim), generator=gen, dtype=torch.float64)
    weights = torch.tensor([1.0, 0.7, 0.3, 0.0], dtype=torch.float64)
    return model, x, target, weights


def test_vjp_matches_an_explicit_jacobian() -> None:
    model, x, target, weights = _setup()
    tau = 0.3
    _, a_hat, g = guidance_gradient(model, x, tau, target, weights)

    def clean_estimate(flat: torch.Tensor) -> torch.Tensor:
        xx = flat.reshape(x.shape)
        return (xx + (1 - tau) * model(xx, tau)).reshape(-1)

    jacobian = torch.autograd.functional.jacobian(clean_estimate, x.reshape(-1))  # (HM, HM)
    error = (weights[:, None] * (target[0] - a_hat[0])).reshape(-1)
    expected = jacobian.T @ error
    torch.testing.assert_close(g.reshape(-1), expected, atol=1e-5, rtol=1e-5)
    # the true VJP is not the identity-Jacobian shortcut when v depends on x ...
    assert not torch.allclose(g.reshape(-1), error, atol=1e-4)
    # ... which is exactly what the Jacobian-free variant returns
    _, _, g_free = guidance_gradient(model, x, tau, target, weights, jacobian_free=True)
    torch.testing.assert_close(g_free.reshape(-1), error)


def test_vjp_touches_no_parameter_grad_and_works_under_no_grad() -> None:
    model, x, target, weights = _setup()
    with torch.no_grad():
        _, _, g = guidance_gradient(model, x, 0.5, target, weights)
        out = guided_sample(model, x, 4, target, weights, max_guidance_weight=5.0)
    assert torch.isfinite(g).all() and torch.isfinite(out).all()
    assert all(p.grad is None for p in model.parameters())


def test_zero_beta_or_zero_weights_reproduce_the_vanilla_sampler_exactly() -> None:
    model, noise, target, weights = _setup()
    vanilla = guided_sample(model, noise, 5)
    no_beta = guided_sample(model, noise, 5, target, weights, max_guidance_weight=0.0)
    no_weights = guided_sample(model, noise, 5, target, torch.zeros_like(weights), max_guidance_weight=10.0)
    assert torch.equal(vanilla, no_beta)
    assert torch.equal(vanilla, no_weights)
    guided = guided_sample(model, noise, 5, target, weights, max_guidance_weight=10.0)
    assert not torch.allclose(vanilla, guided)


def test_last_clean_estimate_is_the_final_euler_output() -> None:
    model, noise, target, weights = _setup()
    trace: list[torch.Tensor] = []
    out = guided_sample(model, noise, 6, trace=trace)
    assert len(trace) == 6
    torch.testing.assert_close(trace[-1], out)
    trace_g: list[torch.Tensor] = []
    out_g = guided_sample(model, noise, 6, target, weights, max_guidance_weight=0.0, trace=trace_g)
    torch.testing.assert_close(trace_g[-1], out_g)


def test_guidance_pulls_frozen_rows_toward_the_target_on_a_known_field() -> None:
    """With v(x) = A* - x the clean estimate is tau x + (1 - tau) A*: guidance moves rows with W > 0 to Y."""
    horizon, dim = 6, 2
    anchor = torch.zeros((1, horizon, dim), dtype=torch.float64)

    def velocity(x: torch.Tensor, tau: float) -> torch.Tensor:
        return anchor - x

    target = torch.ones((1, horizon, dim), dtype=torch.float64)
    weights = torch.tensor([1, 1, 0.5, 0, 0, 0], dtype=torch.float64)
    noise = torch.randn((1, horizon, dim), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    errors = []
    for beta in (0.0, 1.0, 2.0, 5.0):
        out = guided_sample(velocity, noise, 5, target, weights, max_guidance_weight=beta)
        errors.append(float((out[0, :2] - target[0, :2]).norm()))
        vanilla = guided_sample(velocity, noise, 5)
        torch.testing.assert_close(out[0, 3:], vanilla[0, 3:])  # rows with W = 0 are not coupled here
    assert all(b <= a + 1e-9 for a, b in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 0.5 * errors[0]
