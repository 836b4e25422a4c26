"""Inference engine configuration: ``--inference.type=sync|rtc``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from .base import StrictModel

__all__ = ["InferenceConfig", "RTCInferenceConfig", "RTCOptions", "SyncInferenceConfig"]

_LATENCY_FIELD = Field(
    0.0, ge=0, le=60_000, description="Artificial delay added to every inference (emulates slow models)"
)


class SyncInferenceConfig(StrictModel):
    """Inference on the control thread: the loop stalls while a new chunk is computed."""

    type: Literal["sync"] = "sync"
    n_action_steps: int | None = Field(
        None, ge=1, description="Actions executed from each chunk before the next inference (default: all)"
    )
    simulated_latency_ms: float = _LATENCY_FIELD

    @model_validator(mode="before")
    @classmethod
    def _foreign_options(cls, data: Any) -> Any:
        return _reject_foreign(data, {"queue_threshold", "rtc"}, "rtc")


class RTCOptions(StrictModel):
    """Real-time chunking: how the next chunk is inpainted onto the rest of the current one."""

    guidance: bool = Field(
        True,
        description="Guide new chunks toward the unexecuted rest of the current one (false = naive async: "
        "switch to the new chunk unguided; works with any policy). Remote policies: on when the server "
        "advertises the RTC extension, unless given",
    )
    splice: Literal["auto", "switch", "blend"] = Field(
        "auto",
        description="How an unguided new chunk takes over: switch at once, or blend it over the overlap with "
        "the rest of the current chunk (auto: blend for an unguided remote policy, else switch)",
    )
    blend_rows: int = Field(10, ge=1, le=1000, description="Rows over which splice=blend fades the old chunk out")
    execution_horizon: int = Field(
        10, ge=1, le=10_000, description="Rows of the new chunk that are guided (end of the soft mask, LeRobot naming)"
    )
    max_guidance_weight: float = Field(10.0, ge=0, le=1e6, description="Clip of the guidance weight (beta)")
    prefix_attention_schedule: Literal["ZEROS", "ONES", "LINEAR", "EXP"] = Field(
        "LINEAR", description="Shape of the prefix weights between the delay and the execution horizon"
    )
    trigger_margin: float = Field(
        1.0, ge=0, le=100, description="Slack of the automatic trigger, as a fraction of the delay estimate"
    )
    trigger_margin_ms: float = Field(
        100.0, ge=0, le=60_000, description="Least slack of the automatic trigger, in milliseconds"
    )
    delay_window: int = Field(10, ge=1, le=1000, description="Inferences over which the delay estimate is taken")
    delay_percentile: float = Field(
        100.0, gt=0, le=100, description="Percentile of the windowed delays used as estimate (100 = max)"
    )
    delay_margin_ticks: int = Field(0, ge=0, le=100, description="Ticks added to the delay estimate")
    warmup_inferences: int = Field(
        1, ge=0, le=100, description="First inferences left out of latency and delay estimates (cold start)"
    )
    max_consecutive_errors: int = Field(
        5, ge=1, le=1000, description="Failed inferences in a row after which the session pauses with the error"
    )

    @field_validator("prefix_attention_schedule", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class RTCInferenceConfig(StrictModel):
    """Asynchronous inference with real-time chunking (needs a guided policy unless guidance=false)."""

    type: Literal["rtc"] = "rtc"
    queue_threshold: int | None = Field(
        None,
        ge=0,
        le=10_000,
        description="Start the next inference when this many actions or fewer are queued (unset: follow the "
        "measured delay, i.e. the delay estimate plus a margin of --inference.rtc.trigger_margin times it, at "
        "least --inference.rtc.trigger_margin_ms)",
    )
    simulated_latency_ms: float = _LATENCY_FIELD
    rtc: RTCOptions = Field(default_factory=RTCOptions)

    @model_validator(mode="before")
    @classmethod
    def _foreign_options(cls, data: Any) -> Any:
        return _reject_foreign(data, {"n_action_steps"}, "sync")


def _reject_foreign(data: Any, foreign: set[str], owner: str) -> Any:
    """A clear error for an option of the other engine type (instead of "unknown option")."""
    if isinstance(data, dict):
        given = sorted(foreign & set(data))
        if given:
            names = ", ".join(f"--inference.{name}" for name in given)
            raise ValueError(f"{names} applies only to --inference.type={owner}")
    return data


def _inference_tag(value: Any) -> str:
    """``--inference.type`` may be left out (sync); other options then apply to the sync engine."""
    if isinstance(value, dict):
        return str(value.get("type") or "sync")
    return str(getattr(value, "type", "sync"))


InferenceConfig = Annotated[
    Annotated[SyncInferenceConfig, Tag("sync")] | Annotated[RTCInferenceConfig, Tag("rtc")],
    Discriminator(_inference_tag),
    Field(description="Inference engine"),
]
