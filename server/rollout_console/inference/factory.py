"""Builds the policy and the inference engine named in the configuration."""

from __future__ import annotations

from collections.abc import Callable

from ..config import InferenceConfig, RolloutConsoleConfig, RTCInferenceConfig, SyncInferenceConfig
from ..features import FeatureLayout
from ..policies.latency import SlowedPolicy
from ..policies.protocol import Policy
from ..policies.registry import make_policy
from ..registry import Registry
from .base import InferenceEngine

__all__ = ["ENGINES", "EngineFactory", "build_engine", "build_engine_for"]

EngineFactory = Callable[[InferenceConfig, Policy, float], InferenceEngine]
ENGINES: Registry[EngineFactory] = Registry("inference type", "--inference.type")
"""Inference engines keyed by ``--inference.type``; each imports its module only when built."""


def build_engine(config: RolloutConsoleConfig, layout: FeatureLayout) -> InferenceEngine:
    """The configured policy (slowed by ``--inference.simulated_latency_ms``) inside its engine.

    Raises ConfigError (e.g. ``--inference.type=rtc`` with a policy that cannot be guided) before any
    hardware is touched.
    """
    policy: Policy = make_policy(config.policy, layout, fps=config.fps)
    try:
        return build_engine_for(config.inference, policy, fps=config.fps)
    except BaseException:
        close = getattr(policy, "close", None)
        if callable(close):  # a remote policy's connection must not outlive a refused config
            close()
        raise


def build_engine_for(inference: InferenceConfig, policy: Policy, fps: float) -> InferenceEngine:
    """An engine for an already built policy (benchmarks, tests, notebooks)."""
    if inference.simulated_latency_ms > 0:
        policy = SlowedPolicy(policy, inference.simulated_latency_ms)
    return ENGINES.get(inference.type)(inference, policy, fps)


@ENGINES.register("sync")
def _sync(inference: InferenceConfig, policy: Policy, fps: float) -> InferenceEngine:
    from .sync import SyncInferenceEngine

    assert isinstance(inference, SyncInferenceConfig)  # the type picked this factory
    return SyncInferenceEngine(policy, inference.n_action_steps)


@ENGINES.register("rtc")
def _rtc(inference: InferenceConfig, policy: Policy, fps: float) -> InferenceEngine:
    from .rtc import RTCInferenceEngine

    assert isinstance(inference, RTCInferenceConfig)
    options = inference.rtc
    guidance, splice = options.guidance, options.splice
    remote = getattr(policy, "server", None) is not None  # a RemotePolicy, possibly slowed (it forwards)
    if remote and "guidance" not in options.model_fields_set:  # the server's metadata decides
        guidance = bool(getattr(policy, "supports_rtc", False))
    if splice == "auto":
        splice = "blend" if remote and not guidance else "switch"
    return RTCInferenceEngine(
        policy,
        fps=fps,
        queue_threshold=inference.queue_threshold,
        trigger_margin=options.trigger_margin,
        trigger_margin_ms=options.trigger_margin_ms,
        guidance=guidance,
        splice=splice,
        blend_rows=options.blend_rows,
        max_action_age_s=_max_action_age_s(policy),
        execution_horizon=options.execution_horizon,
        max_guidance_weight=options.max_guidance_weight,
        prefix_attention_schedule=options.prefix_attention_schedule,
        delay_window=options.delay_window,
        delay_percentile=options.delay_percentile,
        delay_margin_ticks=options.delay_margin_ticks,
        warmup_inferences=options.warmup_inferences,
        max_consecutive_errors=options.max_consecutive_errors,
    )


def _max_action_age_s(policy: Policy) -> float | None:
    """Remote policies never send an action later than ``--policy.max_action_age_ms`` for its tick."""
    age_ms = getattr(policy, "max_action_age_ms", None)
    return None if age_ms is None else float(age_ms) / 1000.0
