"""Policy configuration: ``--policy.type=scripted|flow|lerobot|remote``; ``--policy.path=DIR`` implies flow."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from .base import StrictModel
from .lerobot import LeRobotPolicyConfig, policy_family
from .remote import RemotePolicyConfig

__all__ = ["FlowPolicyConfig", "PolicyConfig", "RemotePolicyConfig", "ScriptedPolicyConfig"]


class ScriptedPolicyConfig(StrictModel):
    """The scripted expert that solves the sim task from the task state and returns action chunks."""

    type: Literal["scripted"] = "scripted"
    chunk_size: int = Field(50, ge=1, le=1000, description="Actions per predicted chunk")
    max_joint_speed_deg_s: float = Field(60.0, gt=0, description="Speed the expert plans its motions at")

    @model_validator(mode="before")
    @classmethod
    def _foreign_options(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = sorted({"path", "num_steps", "jacobian_free", "guidance_prior_std", "seed"} & set(data))
            if given:
                names = ", ".join(f"--policy.{name}" for name in given)
                raise ValueError(f"{names} applies only to --policy.type=flow (a --policy.path implies it)")
        return data


class FlowPolicyConfig(StrictModel):
    """A flow-matching chunk policy trained with ``rollout-console train`` (guided: works with rtc)."""

    type: Literal["flow"] = "flow"
    path: str = Field(
        "builtin:sim_flow", description="Checkpoint directory (config.json + model.safetensors) or builtin:NAME"
    )
    num_steps: int | None = Field(
        None, ge=1, le=1000, description="Euler denoising steps (default: the checkpoint's)"
    )
    jacobian_free: bool = Field(
        False, description="Guide with the identity-Jacobian shortcut instead of the true VJP (cheaper)"
    )
    guidance_prior_std: float = Field(
        1.0, gt=0, le=10, description="Width of the action prior assumed by RTC guidance (1 = the paper; "
        "smaller guides harder mid-sampling)"
    )
    seed: int | None = Field(None, description="Seed of the sampling noise (default: random)")
    torch_threads: int | None = Field(
        None, ge=1, le=256, description="CPU threads torch uses for inference (default: chosen by the CPU budget, "
        "the cores left after the control loop and the video encoders, one more while running when asynchronous "
        "inference falls behind beside cheap video; see docs/deployment.md)"
    )

    @model_validator(mode="before")
    @classmethod
    def _foreign_options(cls, data: Any) -> Any:
        if isinstance(data, dict):
            given = sorted({"chunk_size", "max_joint_speed_deg_s"} & set(data))
            if given:
                names = ", ".join(f"--policy.{name}" for name in given)
                raise ValueError(f"{names} applies only to --policy.type=scripted (the chunk size of a "
                                 "flow policy is fixed by its checkpoint)")
        return data


PolicyConfig = Annotated[
    Annotated[ScriptedPolicyConfig, Tag("scripted")] | Annotated[FlowPolicyConfig, Tag("flow")]
    | Annotated[LeRobotPolicyConfig, Tag("lerobot")]
    | Annotated[RemotePolicyConfig, Tag("remote")],
    Discriminator(policy_family),
    Field(description="Policy that drives the robot"),
]
