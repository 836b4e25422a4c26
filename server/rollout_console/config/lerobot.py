"""Configuration of LeRobot devices and pretrained policies (the ``lerobot`` extra).

    --robot.type=so101_follower --robot.port=/dev/ttyACM0 --robot.id=my_arm \
        --robot.cameras='{front: {type: opencv, index_or_path: 0, width: 640, height: 480, fps: 30}}'
    --teleop.type=so101_leader --teleop.port=/dev/ttyACM1 --teleop.id=my_leader
    --policy.path=user/act_so101_pick   (a local checkpoint directory or a Hub model id)

Any ``--robot.type`` / ``--teleop.type`` other than ``sim`` names a LeRobot device. Its options are
LeRobot's own: they are kept as given here (no LeRobot import, so parsing stays fast and works without
the extra) and validated against LeRobot's config class when the device is built, before anything
connects (``hardware/lerobot/factory.py``), with a ConfigError naming the flag.

Nothing here imports LeRobot or does I/O, except ``policy_family`` which peeks at a checkpoint's
``config.json`` to tell a flow checkpoint from a LeRobot one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "LeRobotPolicyConfig",
    "LeRobotRobotConfig",
    "LeRobotTeleopConfig",
    "device_family",
    "policy_family",
]

_TYPE = re.compile(r"^[a-z][a-z0-9_]*$")
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_BUILTIN = "builtin:"
TYPE_PLACEHOLDER = "<lerobot type>"


class _LeRobotDevice(BaseModel):
    """A LeRobot device: ``type`` picks the class, every other option is passed to LeRobot's config."""

    # extra="allow": LeRobot's options are not known until LeRobot is imported (build time).
    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(TYPE_PLACEHOLDER, description="LeRobot device type (e.g. so101_follower)")

    @field_validator("type")
    @classmethod
    def _check_type(cls, value: str) -> str:
        value = value.strip()
        if value == "sim":
            raise ValueError("'sim' is the built-in simulated device, not a LeRobot type")
        if not _TYPE.match(value):
            raise ValueError(f"{value!r} is not a LeRobot type name (lower case, digits, '_'), e.g. so101_follower")
        return value

    @property
    def options(self) -> dict[str, Any]:
        """The LeRobot options exactly as given (``--robot.port=...`` -> ``{"port": "..."}``); the
        console's own fields (declared on the model) are never among them."""
        return dict(self.model_extra or {})


class LeRobotRobotConfig(_LeRobotDevice):
    """Any robot LeRobot knows (so101_follower, koch_follower, ...); options are LeRobot's own flags."""


class LeRobotTeleopConfig(_LeRobotDevice):
    """Any LeRobot teleoperator (so101_leader, koch_leader, ...); options are LeRobot's own flags.

    The handover fields are the console's (they shape the takeover in DAgger, as for the sim leader)
    and are never passed to LeRobot; a LeRobot leader cannot be driven, so there is no alignment.
    """

    handover: Literal["smooth", "none"] = Field(
        "smooth", description="On takeover, bring the follower to the leader smoothly (bumpless) or not at all"
    )
    handover_max_s: float = Field(1.0, gt=0, le=10, description="Upper bound of the follower->leader handover")
    handover_speed_deg_s: float = Field(90.0, gt=0, description="Joint speed the handover aims for")
    handover_tolerance: float = Field(
        2.0, ge=0, description="Follower and leader closer than this (every joint) need no handover"
    )


class LeRobotPolicyConfig(BaseModel):
    """A LeRobot pretrained policy (ACT, Diffusion, Pi0, Pi0.5, SmolVLA, ...) from a directory or the Hub.

    Options other than the ones below override fields of the checkpoint's policy config, as
    ``--policy.<field>=`` does in LeRobot (e.g. ``--policy.n_action_steps=50``); they are validated
    against the policy's config class when it loads.
    """

    model_config = ConfigDict(extra="allow", frozen=True, validate_default=True)

    type: Literal["lerobot"] = "lerobot"
    path: str = Field("", description="Checkpoint directory (config.json, model.safetensors, processors) or Hub id")
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit) of a Hub checkpoint")
    device: str = Field("cpu", description="Torch device the policy runs on (cpu, cuda, cuda:1, mps)")
    rename_map: dict[str, str] = Field(
        default_factory=dict,
        description="Observation key -> policy key, e.g. '{observation.images.front: observation.images.top}'",
    )
    torch_threads: int | None = Field(
        None, ge=1, le=256, description="CPU threads torch uses for inference (default: chosen by the CPU budget, "
        "the cores left after the control loop and the video encoders, one more while running when asynchronous "
        "inference falls behind beside cheap video; see docs/deployment.md)"
    )
    features_from: str | None = Field(
        None,
        description="Dataset directory whose meta/info.json names the policy's features, to check joint "
        "names and order (default: the training dataset named in the checkpoint's train_config.json)",
    )

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must name a checkpoint directory or a Hub model id")
        if value.startswith(_BUILTIN):
            raise ValueError(f"{value} is a built-in flow policy: use --policy.type=flow (or leave --policy.type out)")
        return value

    @field_validator("rename_map", mode="before")
    @classmethod
    def _rename_pairs(cls, value: object) -> object:
        # also accept "a=b,c=d" on the command line
        if isinstance(value, str):
            pairs = [part.strip() for part in value.split(",") if part.strip()]
            mapping = {}
            for pair in pairs:
                source, sep, target = pair.partition("=")
                if not sep or not source.strip() or not target.strip():
                    raise ValueError(f"{pair!r} is not old=new (or give a mapping: '{{old: new}}')")
                mapping[source.strip()] = target.strip()
            return mapping
        return value

    @property
    def overrides(self) -> dict[str, Any]:
        """Options that override the checkpoint's policy config (``--policy.<field>=``)."""
        return dict(self.model_extra or {})


def device_family(value: Any) -> str:
    """Discriminator for the robot and teleop unions: ``"sim"`` or ``"lerobot"``.

    No ``type`` (or ``type: sim``) is the built-in simulator; anything else is a LeRobot type.
    """
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None or str(kind).strip() in ("", "sim"):
        return "sim"
    return "lerobot"


def policy_family(value: Any) -> str:
    """Discriminator for the policy union: ``scripted``, ``flow`` or ``lerobot``.

    An explicit ``--policy.type`` wins. Otherwise a ``--policy.path`` decides: ``builtin:NAME`` is
    flow; a directory is flow when its ``config.json`` says ``"type": "flow"`` and LeRobot otherwise;
    a path that does not exist is a Hub id (LeRobot) when it looks like ``owner/name``, else flow
    (whose loader then reports it missing). No path: the scripted expert.
    """
    if not isinstance(value, dict):
        return str(getattr(value, "type", "scripted"))
    if value.get("type"):
        return str(value["type"])
    path = value.get("path")
    if path is None:
        return "scripted"
    text = str(path).strip()
    if text.startswith(_BUILTIN):
        return "flow"
    directory = Path(text).expanduser()
    if directory.is_dir():
        return "flow" if _checkpoint_type(directory) == "flow" else "lerobot"
    return "lerobot" if _HUB_ID.match(text) and not text.startswith(".") else "flow"


def _checkpoint_type(directory: Path) -> str | None:
    try:
        data = json.loads((directory / "config.json").read_text())
    except (OSError, ValueError):
        return None
    return str(data.get("type")) if isinstance(data, dict) and data.get("type") else None
