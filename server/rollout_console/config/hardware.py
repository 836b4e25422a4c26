"""Robot, camera and teleoperator configuration."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from .base import StrictModel, split_list
from .lerobot import LeRobotRobotConfig, LeRobotTeleopConfig, device_family

__all__ = ["SIM_CAMERA_VIEWS", "RobotConfig", "SimRobotConfig", "SimTeleopConfig", "TeleopConfig"]

SIM_CAMERA_VIEWS = ("front", "top", "side")
CameraView = Literal["front", "top", "side"]
_DEFAULT_CAMERAS: list[CameraView] = ["front", "top"]


class SimRobotConfig(StrictModel):
    """The built-in simulated SO-101 arm with a reach-and-place task and rendered cameras."""

    type: Literal["sim"] = "sim"
    id: str = Field("sim_so101", description="Robot id shown in the page and stored with datasets")
    seed: int = Field(0, description="Seed of the scene layout and sensor noise (runs are reproducible)")
    cameras: Annotated[list[CameraView], Field(min_length=0, max_length=3)] = Field(
        default_factory=lambda: _DEFAULT_CAMERAS.copy(),
        description="Rendered camera views, comma separated (front, top, side)",
    )
    camera_width: int = Field(640, ge=32, le=3840, description="Width of every sim camera in pixels")
    camera_height: int = Field(480, ge=32, le=2160, description="Height of every sim camera in pixels")
    camera_fps: float = Field(30.0, gt=0, le=240, description="Frame rate of every sim camera")
    max_joint_speed_deg_s: float = Field(
        180.0, gt=0, description="Rate limit of each joint (the servo cannot move faster)"
    )
    time_constant_s: float = Field(
        0.05, gt=0, le=2, description="First-order lag of each joint towards its goal position"
    )
    observation_noise_deg: float = Field(0.0, ge=0, description="Std-dev of seeded noise on joint readings")
    reset_after_success_s: float = Field(
        2.0, ge=0, description="Seconds after a success before the scene re-randomises (0 = never)"
    )

    _split = field_validator("cameras", mode="before")(split_list)


class SimTeleopConfig(StrictModel):
    """The simulated leader arm, driven from the page (sliders, drag on the top camera) or by the expert."""

    type: Literal["sim"] = "sim"
    driver: Literal["manual", "expert"] = Field(
        "manual", description="Who moves the leader during corrections: the page/API (manual) or the scripted expert"
    )
    max_speed_deg_s: float = Field(240.0, gt=0, description="How fast the leader follows slider/drag targets")
    align_on_pause: bool = Field(
        True, description="On pause, move the (actuated) leader to the follower's pose so takeover starts aligned"
    )
    handover: Literal["smooth", "none"] = Field(
        "smooth", description="On takeover, bring the follower to the leader smoothly (bumpless) or not at all"
    )
    handover_max_s: float = Field(1.0, gt=0, le=10, description="Upper bound of the follower->leader handover")
    handover_speed_deg_s: float = Field(90.0, gt=0, description="Joint speed the handover aims for")
    handover_tolerance: float = Field(
        2.0, ge=0, description="Follower and leader closer than this (every joint) need no handover"
    )


RobotConfig = Annotated[
    Annotated[SimRobotConfig, Tag("sim")] | Annotated[LeRobotRobotConfig, Tag("lerobot")],
    Discriminator(device_family),
    Field(description="Robot to drive: sim, or any LeRobot robot type (so101_follower, koch_follower, ...)"),
]
TeleopConfig = Annotated[
    Annotated[SimTeleopConfig, Tag("sim")] | Annotated[LeRobotTeleopConfig, Tag("lerobot")],
    Discriminator(device_family),
    Field(description="Teleoperator (leader arm): sim, or any LeRobot teleoperator type (so101_leader, ...)"),
]
