"""LeRobot pretrained policies (ACT, Diffusion, Pi0, Pi0.5, SmolVLA, ...) behind our Policy protocol.

``load_lerobot_policy`` loads a checkpoint (directory or Hub id) with its saved processors, exactly
as LeRobot 0.6 (``lerobot-rollout``) deploys it: ``PreTrainedConfig.from_pretrained`` (``--policy.<field>``
overrides), ``get_policy_class(type).from_pretrained`` and ``make_pre_post_processors(config, path,
pretrained_revision)``, which reads ``policy_preprocessor.json`` / ``policy_postprocessor.json``
(normalisation stats, tokenisers, renames) with the device and ``--policy.rename_map`` set on the saved
``device_processor`` / ``rename_observations_processor`` steps. Installed ``lerobot_policy_*`` plugins are
imported first; a checkpoint saved by another LeRobot release is checked by ``lerobot_checkpoint``.

Before anything moves (this runs while the session is built, before the robot connects) the policy's
inputs and action are checked against the robot: every input the policy needs must be provided (after
``--policy.rename_map``) with the right size, and when the training dataset's metadata is at hand
(``--policy.features_from`` or the checkpoint's ``train_config.json``) the joint names must match in
order. A mismatch is a ConfigError naming the fix.

``predict_chunk`` returns LeRobot's ``predict_action_chunk`` after the postprocessor: (chunk, A)
float32 in the robot's action order. Policies with LeRobot's real-time-chunking hooks (Pi0, Pi0.5,
SmolVLA: ``init_rtc_processor``) are loaded as ``GuidedLeRobotPolicy``, which also implements
``predict_chunk_guided`` for ``--inference.type=rtc``: the prefix (robot units) is normalised back into
the model's action space and passed as ``prev_chunk_left_over`` with ``inference_delay`` and
``execution_horizon``. Other policies are plain ``LeRobotPolicy`` objects, which the RTC engine refuses
at start unless ``--inference.rtc.guidance=false``.

Multi-observation policies (Diffusion with ``n_obs_steps > 1``) see the observations of successive
inferences, not of successive ticks.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from ..config.lerobot import LeRobotPolicyConfig
from ..errors import ConfigError, InferenceError
from ..features import ENV_STATE, IMAGE_PREFIX, STATE, FeatureLayout
from .lerobot_checkpoint import CheckpointPlan, plan_checkpoint

__all__ = ["GuidedLeRobotPolicy", "LeRobotPolicy", "PolicyFeatureCheck", "check_features", "load_lerobot_policy"]

log = logging.getLogger(__name__)

_CONSOLE_OPTIONS = {"type", "path", "revision", "device", "rename_map", "features_from"}
_PREPROCESSOR = "policy_preprocessor.json"
_RENAME_STEP = "rename_observations_processor"
_POSTPROCESSOR = "policy_postprocessor.json"


# ------------------------------------------------------------------------------------------ checks


@dataclass(frozen=True)
class PolicyFeatureCheck:
    """What the feature check compared: the provided inputs, and whether names (order) were verified."""

    inputs: tuple[str, ...]
    names_verified: bool
    names_source: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"inputs": list(self.inputs), "names_verified": self.names_verified, "names_source": self.names_source}


def _provided(layout: FeatureLayout) -> dict[str, tuple[int, ...]]:
    """Observation keys the robot provides, with LeRobot (policy-side) shapes: images are (C, H, W)."""
    provided: dict[str, tuple[int, ...]] = {STATE: (len(layout.state_names),)}
    if layout.env_names:
        provided[ENV_STATE] = (len(layout.env_names),)
    for name, (height, width, channels) in layout.camera_shapes.items():
        provided[IMAGE_PREFIX + name] = (channels, height, width)
    return provided


def check_features(
    input_features: Mapping[str, Any],
    action_shape: Sequence[int],
    layout: FeatureLayout,
    rename_map: Mapping[str, str] | None = None,
    dataset_features: Mapping[str, Any] | None = None,
    names_source: str | None = None,
    label: str = "the policy",
) -> PolicyFeatureCheck:
    """Check the policy's inputs and action against the robot; ConfigError (``--policy.*``) if they differ.

    ``input_features`` maps a policy key to an object with ``.shape`` (LeRobot ``PolicyFeature``) or a
    shape; ``dataset_features`` is the training dataset's ``info.json`` ``features`` (names), if known.
    """
    renames = dict(rename_map or {})
    provided = {renames.get(key, key): shape for key, shape in _provided(layout).items()}
    unknown = sorted(set(renames) - set(_provided(layout)))
    if unknown:
        raise ConfigError(f"renames {', '.join(unknown)}, which the robot does not provide (it provides "
                          f"{', '.join(_provided(layout))})", flag="--policy.rename_map")
    wanted = {key: tuple(getattr(value, "shape", value)) for key, value in input_features.items()}
    missing = [key for key in wanted if key not in provided]
    if missing:
        spare = [key for key in provided if key not in wanted and key.startswith(IMAGE_PREFIX)]
        hint = ""
        if spare and all(key.startswith(IMAGE_PREFIX) for key in missing):
            pairs = ", ".join(f"{have}: {need}" for have, need in zip(spare, missing, strict=False))
            hint = f"; map cameras with --policy.rename_map='{{{pairs}}}'"
        raise ConfigError(f"{label} needs {', '.join(missing)}, but the robot provides {', '.join(provided)}{hint}",
                          flag="--policy.path")
    for key, shape in wanted.items():
        have = provided[key]
        if key.startswith(IMAGE_PREFIX):
            if shape[:1] != have[:1]:
                raise ConfigError(f"{label} expects {key} with {shape[0]} channels, the camera gives {have[0]}",
                                  flag="--policy.path")
            if shape[1:] != have[1:]:
                log.warning("%s was trained on %s at %sx%s; the camera gives %sx%s", label, key, shape[2], shape[1],
                            have[2], have[1])
        elif shape != have:
            raise ConfigError(f"{label} expects {key} of size {shape[0] if shape else shape}, the robot gives "
                              f"{have[0]} values", flag="--policy.path")
    if tuple(action_shape) != (len(layout.action_names),):
        raise ConfigError(f"{label} outputs {next(iter(action_shape), 0)} action values, the "
                          f"robot takes {len(layout.action_names)} ({', '.join(layout.action_names)})",
                          flag="--policy.path")
    verified = False
    if dataset_features is not None:
        _check_names(dataset_features, layout, wanted, label, names_source)
        verified = True
    return PolicyFeatureCheck(tuple(wanted), verified, names_source if verified else None)


def _check_names(features: Mapping[str, Any], layout: FeatureLayout, wanted: Mapping[str, Any], label: str,
                 source: str | None) -> None:
    pairs = [("action", layout.action_names)]
    if STATE in wanted:
        pairs.append((STATE, layout.state_names))
    if ENV_STATE in wanted:
        pairs.append((ENV_STATE, layout.env_names))
    for key, robot_names in pairs:
        trained = (features.get(key) or {}).get("names")
        if isinstance(trained, dict):  # older datasets: {"motors": [...]}
            trained = next(iter(trained.values()), None)
        if not isinstance(trained, list):
            continue
        trained_names = tuple(str(name) for name in trained)
        if trained_names == tuple(robot_names):
            continue
        order = " (the same joints in another order)" if sorted(trained_names) == sorted(robot_names) else ""
        raise ConfigError(f"{label} was trained with {key} = [{', '.join(trained_names)}] but this robot's "
                          f"{key} is [{', '.join(robot_names)}]{order} (names from {source})", flag="--policy.path")


def _training_info(checkpoint: Path | None, features_from: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """The training dataset's ``meta/info.json`` and where it came from, when available."""
    candidates: list[Path] = []
    if features_from:
        root = Path(features_from).expanduser()
        info = root if root.name == "info.json" else root / "meta" / "info.json"
        if not info.is_file():
            raise ConfigError(f"{info} does not exist (give a LeRobot dataset directory)",
                              flag="--policy.features_from")
        candidates.append(info)
    elif checkpoint is not None and (checkpoint / "train_config.json").is_file():
        try:
            dataset = json.loads((checkpoint / "train_config.json").read_text()).get("dataset") or {}
        except (OSError, ValueError):
            dataset = {}
        if dataset.get("root"):
            candidates.append(Path(dataset["root"]).expanduser() / "meta" / "info.json")
        if dataset.get("repo_id"):
            from ..config.dataset import lerobot_home

            candidates.append(lerobot_home() / str(dataset["repo_id"]) / "meta" / "info.json")
    for info in candidates:
        try:
            data = json.loads(info.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("features"), dict):
            return data, str(info)
    return None, None


# ------------------------------------------------------------------------------------------ policy


class LeRobotPolicy:
    """Policy protocol around a LeRobot ``PreTrainedPolicy`` and its pre/post processors."""

    def __init__(self, policy: Any, preprocessor: Any, postprocessor: Any, layout: FeatureLayout, *,
                 name: str, device: str, rename_map: Mapping[str, str] | None = None,
                 robot_type: str = "", check: PolicyFeatureCheck | None = None,
                 renamed_by_pipeline: bool = False) -> None:
        import torch

        self.policy = policy
        self.preprocessor = preprocessor
        self.postprocessor = postprocessor
        self.layout = layout
        self.name = name
        self.action_names = tuple(layout.action_names)
        self.device = torch.device(device)
        self.rename_map = dict(rename_map or {})
        # True: the preprocessor's own rename step applies rename_map, so observations keep the robot's keys
        self.renamed_by_pipeline = renamed_by_pipeline
        self.robot_type = robot_type
        self.check = check
        config = policy.config
        self.inputs = tuple(config.input_features)
        steps = getattr(config, "n_action_steps", None) if config.type == "diffusion" else None
        if not steps:
            steps = getattr(config, "chunk_size", None) or getattr(config, "n_action_steps", None) or 1
        self.chunk_size = int(steps)
        self._lock = threading.Lock()  # one inference at a time, whoever calls

    def reset(self) -> None:
        with self._lock:
            self.policy.reset()

    def _batch(self, observation: Mapping[str, Any]) -> dict[str, Any]:
        """Our observation frame -> LeRobot's unbatched inference dict (images CHW float in [0, 1])."""
        import torch

        batch: dict[str, Any] = {}
        for key, value in observation.items():
            target = self.rename_map.get(key, key)
            if target not in self.inputs:
                continue
            out = key if self.renamed_by_pipeline else target
            if key.startswith(IMAGE_PREFIX):
                image = torch.from_numpy(np.ascontiguousarray(value)).to(self.device)
                batch[out] = (image.permute(2, 0, 1).to(torch.float32) / 255.0).unsqueeze(0)
            else:
                batch[out] = torch.from_numpy(np.asarray(value, dtype=np.float32)).to(self.device).unsqueeze(0)
        batch["task"] = str(observation.get("task") or "")
        batch["robot_type"] = self.robot_type
        return batch

    def _run(self, observation: Mapping[str, Any], **kwargs: Any) -> np.ndarray:
        import torch

        # guidance differentiates through the denoiser (LeRobot's RTC enables grad inside), which
        # inference_mode tensors cannot do: guided calls run under no_grad instead
        mode = torch.no_grad() if kwargs.get("prev_chunk_left_over") is not None else torch.inference_mode()
        with self._lock, mode:
            try:
                batch = self.preprocessor(self._batch(observation))
                chunk = self.policy.predict_action_chunk(batch, **kwargs)
                actions = self.postprocessor(chunk)
            except ConfigError:
                raise
            except Exception as exc:
                raise InferenceError(f"{self.name}: inference failed: {type(exc).__name__}: {exc}") from exc
        array = actions.detach().to("cpu", torch.float32).numpy()
        if array.ndim == 3:
            array = array[0]
        if array.ndim != 2 or array.shape[1] != len(self.action_names):
            raise InferenceError(f"{self.name}: predicted a chunk of shape {array.shape}; expected "
                                 f"(chunk, {len(self.action_names)})")
        self.chunk_size = array.shape[0]
        return np.ascontiguousarray(array, dtype=np.float32)

    def predict_chunk(self, observation: dict[str, Any]) -> np.ndarray:
        return self._run(observation)


class GuidedLeRobotPolicy(LeRobotPolicy):
    """A LeRobot flow policy with real-time-chunking hooks (Pi0, Pi0.5, SmolVLA)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._normalizer = _action_normalizer(self.postprocessor, self.device)
        self._rtc_key: tuple[str, float] | None = None

    def _configure_rtc(self, schedule: str, max_guidance_weight: float, execution_horizon: int) -> None:
        key = (schedule.upper(), float(max_guidance_weight))
        if key == self._rtc_key:
            return
        from lerobot.configs.types import RTCAttentionSchedule
        from lerobot.policies.rtc.configuration_rtc import RTCConfig

        self.policy.config.rtc_config = RTCConfig(
            enabled=True, prefix_attention_schedule=RTCAttentionSchedule[key[0]],
            max_guidance_weight=key[1], execution_horizon=execution_horizon,
        )
        self.policy.init_rtc_processor()
        self._rtc_key = key

    def to_model_space(self, rows: np.ndarray) -> Any:
        """Robot-unit action rows -> the model's (normalised) action space, shape (1, rows, A)."""
        import torch
        from lerobot.processor import TransitionKey
        from lerobot.processor.converters import create_transition

        tensor = torch.as_tensor(np.asarray(rows, dtype=np.float32), device=self.device).unsqueeze(0)
        if self._normalizer is None:
            return tensor
        return self._normalizer(create_transition(action=tensor))[TransitionKey.ACTION]

    def predict_chunk_guided(self, observation: dict[str, Any], prefix: np.ndarray, inference_delay: int,
                             execution_horizon: int, schedule: str = "LINEAR",
                             max_guidance_weight: float = 10.0) -> np.ndarray:
        prefix = np.asarray(prefix, dtype=np.float32).reshape(-1, len(self.action_names))
        if len(prefix) == 0 or max_guidance_weight == 0:
            return self._run(observation)
        with self._lock:
            self._configure_rtc(schedule, max_guidance_weight, execution_horizon)
            left_over = self.to_model_space(prefix)
        return self._run(observation, inference_delay=int(inference_delay), prev_chunk_left_over=left_over,
                         execution_horizon=int(execution_horizon))


def _action_normalizer(postprocessor: Any, device: Any) -> Any:
    """A NormalizerProcessorStep inverting the postprocessor's action unnormalisation (or None)."""
    from lerobot.processor import NormalizerProcessorStep, UnnormalizerProcessorStep

    for step in getattr(postprocessor, "steps", []):
        if isinstance(step, UnnormalizerProcessorStep):
            return NormalizerProcessorStep(features=step.features, norm_map=step.norm_map, stats=step.stats,
                                           device=device)
    return None


def _guidable(policy: Any, postprocessor: Any) -> str | None:
    """None when the policy can be guided; otherwise why not."""
    if not callable(getattr(policy, "init_rtc_processor", None)):
        return f"{policy.config.type} has no real-time-chunking support in LeRobot (Pi0, Pi0.5 and SmolVLA do)"
    from lerobot.processor import DeviceProcessorStep, UnnormalizerProcessorStep

    steps = list(getattr(postprocessor, "steps", []))
    if any(type(step).__name__ == "AbsoluteActionsProcessorStep" and getattr(step, "enabled", False)
           for step in steps):
        return ("it predicts relative actions (use_relative_actions): the console cannot express the executed "
                "prefix in its action space")
    # LeRobot 0.6's Pi0/Pi0.5 pipelines always carry an AbsoluteActionsProcessorStep, disabled unless the
    # policy was trained with relative actions: a disabled one changes nothing
    others = [type(step).__name__ for step in steps
              if not isinstance(step, (UnnormalizerProcessorStep, DeviceProcessorStep))
              and not (type(step).__name__ == "AbsoluteActionsProcessorStep" and not getattr(step, "enabled", False))]
    if others:
        return f"its postprocessor has steps the console cannot invert for guidance ({', '.join(others)})"
    return None


# ------------------------------------------------------------------------------------------ loading


def load_lerobot_policy(config: LeRobotPolicyConfig, layout: FeatureLayout, fps: float, robot_type: str = "") -> LeRobotPolicy:
    """Load ``config`` (a ``LeRobotPolicyConfig``); ConfigError naming the flag on any problem."""
    from ..hardware.lerobot.factory import require_lerobot

    require_lerobot("--policy.path")
    import lerobot.policies  # noqa: F401  (registers LeRobot's policy config types)
    import torch
    from lerobot.configs.policies import PreTrainedConfig

    from ..hardware.lerobot.factory import register_lerobot_plugins
    from ..hardware.lerobot.version import check_lerobot_version

    register_lerobot_plugins()  # lerobot_policy_* packages register their types, as in LeRobot's CLIs
    path = config.path
    local = Path(path).expanduser()
    checkpoint = local if local.is_dir() else None
    source = str(checkpoint) if checkpoint is not None else path
    device = _device(config.device, torch)
    saved = _checkpoint_config(source, config.revision)
    plan = plan_checkpoint(saved, PreTrainedConfig, check_lerobot_version("--policy.path"), source, checkpoint)
    return _load(config, layout, fps, robot_type, path, checkpoint, source, plan, device)


def _load(config: LeRobotPolicyConfig, layout: FeatureLayout, fps: float, robot_type: str, path: str, checkpoint: Path | None,
          source: str, plan: CheckpointPlan, device: str) -> LeRobotPolicy:
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    policy_type = plan.policy_type
    overrides = _overrides(config.overrides, policy_type, PreTrainedConfig)
    try:
        policy_config = PreTrainedConfig.from_pretrained(source, revision=config.revision,
                                                         cli_overrides=[*overrides, f"--device={device}"])
    except SystemExit as exc:  # draccus reports a bad override through argparse
        raise ConfigError(f"cannot apply the overrides {overrides} to {policy_type} (exit {exc.code})",
                          flag="--policy") from None
    except (FileNotFoundError, OSError) as exc:
        raise ConfigError(f"cannot load the policy config of {path}: {exc}", flag="--policy.path") from None
    except Exception as exc:  # a value draccus cannot decode (a field whose type changed between releases)
        detail = " ".join(str(exc).split())
        raise ConfigError(f"cannot decode {path}/config.json with LeRobot {plan.installed_version} (saved by "
                          f"{plan.saved_by}): {type(exc).__name__}: {detail}", flag="--policy.path") from None
    label = f"lerobot:{policy_config.type}({Path(path).name if checkpoint is not None else path})"
    info, names_source = _training_info(checkpoint, config.features_from)
    trained_fps = info.get("fps") if info else None
    if isinstance(trained_fps, (int, float)) and abs(float(trained_fps) - fps) > 1e-6:
        raise ConfigError(f"{label} was trained on data recorded at {trained_fps:g} fps but the session runs at "
                          f"{fps:g}; its chunks are timed per tick, so set --fps={trained_fps:g}", flag="--fps")
    action = policy_config.output_features.get("action")
    if action is None:
        raise ConfigError(f"{label} has no 'action' output feature", flag="--policy.path")
    pre_steps = _steps(source, _PREPROCESSOR, config.revision)
    # LeRobot 0.6 (lerobot-rollout --rename_map) sets the rename map of the saved pipeline's
    # rename_observations_processor step; without --policy.rename_map the map saved at training applies
    # (entries for keys this robot does not provide rename nothing: they are left out, not refused)
    saved_map = (pre_steps.get(_RENAME_STEP) or {}).get("rename_map") or {}
    rename_map = dict(config.rename_map) or {str(key): str(value) for key, value in saved_map.items()
                                             if key in _provided(layout)}
    check = check_features(policy_config.input_features, action.shape, layout, rename_map,
                           info["features"] if info else None, names_source, label=label)
    if not check.names_verified:
        log.warning("%s: joint names and order could not be verified (no training dataset metadata; give "
                    "--policy.features_from=DATASET_DIR)", label)
    try:
        policy = get_policy_class(policy_config.type).from_pretrained(source, config=policy_config,
                                                                      revision=config.revision)
        policy.to(device)
        policy.eval()
        overrides_pre: dict[str, Any] = {}
        if "device_processor" in pre_steps:
            overrides_pre["device_processor"] = {"device": device}
        if _RENAME_STEP in pre_steps:
            overrides_pre[_RENAME_STEP] = {"rename_map": rename_map}
        preprocessor, postprocessor = make_pre_post_processors(
            policy_config, pretrained_path=source, pretrained_revision=config.revision,
            preprocessor_overrides=overrides_pre,
        )
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"cannot load {path}: {type(exc).__name__}: {exc}", flag="--policy.path") from None
    why_not = _guidable(policy, postprocessor)
    cls = GuidedLeRobotPolicy if why_not is None else LeRobotPolicy
    if why_not is not None:
        log.info("%s: not guided (%s): works with --inference.type=sync or naive async", label, why_not)
    return cls(policy, preprocessor, postprocessor, layout, name=label, device=device,
               rename_map=rename_map, robot_type=robot_type, check=check,
               renamed_by_pipeline=_RENAME_STEP in pre_steps)


def _device(requested: str, torch: Any) -> str:
    name = requested.strip().lower()
    kind = name.split(":", 1)[0]
    available = {"cpu": True, "cuda": torch.cuda.is_available(),
                 "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())}
    if kind not in available:
        raise ConfigError(f"unknown device {requested!r} (cpu, cuda, cuda:N, mps)", flag="--policy.device")
    if not available[kind]:
        raise ConfigError(f"{requested} is not available on this machine", flag="--policy.device")
    return name


def _read_json(source: str, filename: str, revision: str | None) -> dict[str, Any]:
    """A JSON file of a local checkpoint or a Hub repo (downloaded into the HF cache)."""
    local = Path(source) / filename
    if not local.is_file() and not Path(source).is_dir():
        from huggingface_hub import hf_hub_download

        local = Path(hf_hub_download(source, filename, revision=revision))
    return json.loads(local.read_text())


def _checkpoint_config(source: str, revision: str | None) -> dict[str, Any]:
    """The checkpoint's ``config.json`` (must name a policy ``type``)."""
    try:
        data = _read_json(source, "config.json", revision)
    except Exception as exc:
        where = "directory" if Path(source).is_dir() else "Hub repository (or local directory)"
        raise ConfigError(f"cannot read config.json of the {where} {source}: {type(exc).__name__}: {exc}",
                          flag="--policy.path") from None
    kind = data.get("type") if isinstance(data, dict) else None
    if not kind:
        raise ConfigError(f"{source}/config.json has no policy 'type': not a LeRobot checkpoint",
                          flag="--policy.path")
    return data


def _steps(source: str, filename: str, revision: str | None) -> dict[str, dict[str, Any]]:
    """The saved pipeline's steps: registry name (or class) -> its saved config."""
    try:
        data = _read_json(source, filename, revision)
    except Exception:
        return {}
    return {str(step.get("registry_name") or step.get("class", "")): dict(step.get("config") or {})
            for step in data.get("steps", []) if isinstance(step, dict)}


def _overrides(options: Mapping[str, Any], policy_type: str, base: Any) -> list[str]:
    """``--policy.<field>`` options -> draccus arguments, after checking the fields exist."""
    if not options:
        return []
    try:
        config_class = base.get_choice_class(policy_type)
    except Exception:
        raise ConfigError(f"unknown LeRobot policy type {policy_type!r}", flag="--policy.path") from None
    known = {f.name for f in fields(config_class) if f.init}
    args = []
    for key, value in options.items():
        if key in _CONSOLE_OPTIONS or key not in known:
            import difflib

            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean --policy.{close[0]}?)" if close else ""
            raise ConfigError(f"not an option of LeRobot policy {policy_type}{hint}", flag=f"--policy.{key}")
        text = json.dumps(value) if isinstance(value, (dict, list, bool)) or value is None else str(value)
        args.append(f"--{key}={text}")
    return args
