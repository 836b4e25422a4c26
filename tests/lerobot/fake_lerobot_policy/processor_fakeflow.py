from __future__ import annotations

from typing import Any

from lerobot.processor import (
    AddBatchDimensionProcessorStep,
    DeviceProcessorStep,
    NormalizerProcessorStep,
    PolicyAction,
    PolicyProcessorPipeline,
    UnnormalizerProcessorStep,
)
from lerobot.processor.converters import policy_action_to_transition, transition_to_policy_action

from .configuration_fakeflow import FakeFlowConfig


def make_fakeflow_pre_post_processors(config: FakeFlowConfig, dataset_stats: dict | None = None) -> tuple[Any, Any]:
    features = {**config.input_features, **config.output_features}
    pre = PolicyProcessorPipeline[dict[str, Any], dict[str, Any]](steps=[
        AddBatchDimensionProcessorStep(),
        DeviceProcessorStep(device=config.device or "cpu"),
        NormalizerProcessorStep(features=features, norm_map=config.normalization_mapping, stats=dataset_stats),
    ], name="policy_preprocessor")
    post = PolicyProcessorPipeline[PolicyAction, PolicyAction](
        steps=[UnnormalizerProcessorStep(features=config.output_features, norm_map=config.normalization_mapping,
                                         stats=dataset_stats), DeviceProcessorStep(device="cpu")],
        name="policy_postprocessor", to_transition=policy_action_to_transition, to_output=transition_to_policy_action,
    )
    return pre, post
