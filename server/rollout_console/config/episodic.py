"""Configuration of the episodic strategy: N episodes with resets, outcomes, and policies to compare."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, ClassVar, Literal

from pydantic import Field, TypeAdapter, model_validator

from .base import StrategyConfigBase, StrictModel
from .inference import InferenceConfig
from .policy import PolicyConfig

__all__ = ["EpisodicStrategyConfig", "PolicyEntry", "policy_label"]

_ENTRY_KEYS = ("name", "inference")
_POLICY = TypeAdapter(PolicyConfig)


def policy_label(policy: Any) -> str:
    """A short readable name for a policy config: the checkpoint's name, or the policy type."""
    path = getattr(policy, "path", None)
    if path:
        text = str(path)
        return text.split(":", 1)[1] if text.startswith("builtin:") else PurePosixPath(text.rstrip("/")).name or text
    return str(getattr(policy, "type", "policy"))


class PolicyEntry(StrictModel):
    """One policy under evaluation: a policy config, an optional engine of its own, a display name."""

    name: str | None = Field(None, min_length=1, max_length=40, description="Shown in results (default: derived)")
    policy: PolicyConfig
    inference: InferenceConfig | None = Field(None, description="Engine for this policy (default: --inference)")

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        """Entries are written flat, like ``--policy``: ``{"path": ..., "inference": {...}, "name": ...}``."""
        if isinstance(data, dict) and "policy" not in data:
            policy = {key: value for key, value in data.items() if key not in _ENTRY_KEYS}
            return {**{key: data[key] for key in _ENTRY_KEYS if key in data}, "policy": policy}
        return data


class EpisodicStrategyConfig(StrategyConfigBase):
    """N episodes of a fixed length, each after a reset; outcomes labelled; success rates compared."""

    type: Literal["episodic"] = "episodic"
    dataset_use = "optional"
    episode_columns: ClassVar[dict[str, str]] = {"policy": "string", "time_to_success_s": "float64"}
    """Per-episode dataset columns this strategy fills besides ``outcome``."""
    num_episodes: int = Field(10, ge=1, le=10_000, description="Episodes to run (all policies together)")
    episode_time_s: float = Field(30.0, gt=0, le=3600, description="Longest episode; it ends earlier on success")
    reset_time_s: float = Field(
        10.0, ge=0, le=3600, description="Reset countdown after the arm is home (the operator can end it early)"
    )
    end_on_success: bool = Field(True, description="End the episode as soon as the success detector fires")
    outcome_from: Literal["auto", "detector", "operator", "both"] = Field(
        "auto", description="Who gives each outcome: the success detector, the operator, or both (the operator "
        "confirms or overrides the detector); auto: the detector when the robot has one, else the operator"
    )
    success_detector: str | None = Field(
        None, description="module:function called with the observation, returning True/False/None (a real "
        "robot's detector); default: the robot's own (the sim's)"
    )
    policies: list[PolicyEntry] = Field(
        default_factory=list, description="Policies to compare, e.g. '[{path: builtin:sim_flow}, {type: scripted}]' "
        "(replaces --policy; each entry may carry its own inference section)"
    )
    blind: bool = Field(False, description="Hide which policy runs until the episode's outcome is given")
    seed: int = Field(0, description="Seed of the balanced random assignment and of the sim's scenes")
    output_dir: str | None = Field(
        None, description="Where results.json and results.csv go (default: next to the dataset, or "
        "outputs/evaluation/<time>)"
    )

    @model_validator(mode="after")
    def _entries(self) -> EpisodicStrategyConfig:
        names = [entry.name for entry in self.policies if entry.name]
        if len(names) != len(set(names)):
            raise ValueError("--strategy.policies: two entries have the same name")
        for index, entry in enumerate(self.policies):
            inference = entry.inference
            guided_rtc = inference is not None and inference.type == "rtc" and inference.rtc.guidance
            if guided_rtc and entry.policy.type == "scripted":
                raise ValueError(f"--strategy.policies[{index}] ({policy_label(entry.policy)}): guided rtc needs a "
                                 "guided policy; the scripted expert is not one (use inference.rtc.guidance=false "
                                 "or inference.type=sync)")
        return self


def validate_policy(data: Any) -> Any:
    """A policy config from a plain dict (tests and tools)."""
    return _POLICY.validate_python(data)
