"""Checkpoints saved by another LeRobot release: load them when LeRobot can, else say exactly why not.

LeRobot decodes ``config.json`` strictly (draccus): one field the installed release does not know makes
the whole load fail with a traceback (``DecodingError: The fields pretrained_revision are not valid for
ACTConfig`` when LeRobot 0.4.4 met a 0.6.1 checkpoint). Fields a release adds are filled with their
defaults, so older checkpoints load: between 0.4.4 and 0.6.1 the policy configs only gained fields
(``pretrained_revision``; Diffusion ``gradient_checkpointing``; Pi0/Pi0.5 ``use_relative_actions``,
``relative_exclude_joints``, ``action_feature_names``), none was removed or renamed.

``plan_checkpoint`` compares the saved fields with the installed config class before anything moves: a
field the installed LeRobot does not know, or a policy type it does not register, is a ConfigError naming
the field, the checkpoint's LeRobot version and the installed one. Nothing is silently dropped: an unknown
field may change what the model computes.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["CheckpointPlan", "plan_checkpoint", "saved_lerobot_version"]

_VERSION = re.compile(r"lerobot[_ ]version\W{0,6}v?(\d+\.\d+(?:\.\d+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class CheckpointPlan:
    """A checkpoint the installed LeRobot can decode: its policy type and the versions involved."""

    policy_type: str
    saved_version: str | None
    installed_version: str

    @property
    def saved_by(self) -> str:
        return describe_saved(self.saved_version)


def saved_lerobot_version(checkpoint: Path | None, config: dict[str, Any]) -> str | None:
    """The LeRobot version that saved the checkpoint, when it is written anywhere in it (a ``lerobot_version``
    key, or the Hub model card / train config mentioning it)."""
    for key in ("lerobot_version", "_lerobot_version"):
        if isinstance(config.get(key), str):
            return str(config[key])
    if checkpoint is None:
        return None
    for name in ("train_config.json", "README.md"):
        path = checkpoint / name
        try:
            text = path.read_text(errors="replace")[:200_000] if path.is_file() else ""
        except OSError:
            continue
        match = _VERSION.search(text)
        if match:
            return match.group(1)
    return None


def describe_saved(saved: str | None) -> str:
    return (f"LeRobot {saved}" if saved else
            "a LeRobot release the checkpoint does not record (LeRobot 0.6.1 writes no version into a checkpoint)")


def plan_checkpoint(config: dict[str, Any], base: Any, installed: str, source: str,
                    checkpoint: Path | None = None) -> CheckpointPlan:
    """Check a checkpoint's ``config.json`` (``config``) against ``base`` (LeRobot's ``PreTrainedConfig``)."""
    policy_type = str(config.get("type") or "")
    saved = saved_lerobot_version(checkpoint, config)
    known_types = sorted(base.get_known_choices())
    if policy_type not in known_types:
        raise ConfigError(
            f"{source} is a {policy_type!r} policy, a type the installed LeRobot {installed} does not have "
            f"(saved by {describe_saved(saved)}); known types: {', '.join(known_types)}. Install the LeRobot "
            f"release or the lerobot_policy_* plugin that provides it", flag="--policy.path")
    config_class = base.get_choice_class(policy_type)
    known = {f.name for f in dataclasses.fields(config_class) if f.init}
    unknown = sorted(key for key in config if key != "type" and key not in known)
    if unknown:
        raise ConfigError(
            f"{source}/config.json has field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} that "
            f"{config_class.__name__} of the installed LeRobot {installed} does not know: the checkpoint was saved "
            f"by {describe_saved(saved)}. Deploy it with the LeRobot release that saved it, or re-save it with "
            f"LeRobot {installed}", flag="--policy.path")
    return CheckpointPlan(policy_type, saved, installed)
