"""The session part of the configuration: what a web client may choose when it starts a session.

The command line fixes the machine (``server``, ``robot``, ``teleop``, ``pedal``, ``lease``, ``loop``);
a session picks its strategy, policy, engine, task and dataset. ``config_for_session`` turns a request
body into a full, validated ``RolloutConsoleConfig``: fields left out take the command line's values,
machine fields are refused, and paths are confined (``dataset.root`` and an evaluation's ``output_dir``
strictly under ``--server.data_dir``, ``policy.path`` a built-in, a Hub id, or a checkpoint under
``--server.policies_dir``, ``policy.features_from`` under ``--server.policies_dir``); an evaluation's
``success_detector`` (code the server imports) is the command line's only.
Problems come back as pydantic-style issues (``loc`` names the field) so the API answers 422 with them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .dataset import DatasetConfig, effective_repo_id, lerobot_home
from .root import RolloutConsoleConfig

__all__ = [
    "MACHINE_FIELDS",
    "SESSION_FIELDS",
    "SessionConfigError",
    "config_for_session",
    "data_dir",
    "session_part",
]

SESSION_FIELDS = ("strategy", "policy", "inference", "task", "dataset", "resume", "fps", "interpolation_multiplier",
                  "duration", "return_to_initial_position", "return_duration_s")
"""What a session chooses (``POST /api/v1/sessions`` accepts only these)."""

MACHINE_FIELDS = ("server", "robot", "teleop", "pedal", "lease", "loop")
"""What the command line fixes for the life of the process."""

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_BUILTIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_HISTORY_DIR = ".rollout-console"  # runtime/history.py keeps the sessions file there
_FLAG = re.compile(r"--([a-z_]+(?:\.[a-z_]+|\[\d+\])*)")
_BUILTIN = "builtin:"


class SessionConfigError(ValueError):
    """A session config that cannot run; ``issues`` are pydantic-style dicts (type, loc, msg)."""

    def __init__(self, issues: list[dict[str, Any]]) -> None:
        self.issues = issues
        super().__init__("; ".join(f"{'.'.join(str(p) for p in i['loc'])}: {i['msg']}" for i in issues))


def data_dir(config: RolloutConsoleConfig) -> Path:
    """``--server.data_dir``, defaulting to ``$HF_LEROBOT_HOME`` (where datasets go without a root)."""
    value = config.server.data_dir
    return (Path(value).expanduser() if value else lerobot_home()).resolve()


def session_part(config: RolloutConsoleConfig) -> dict[str, Any]:
    """The session fields of ``config`` as JSON (what a session record stores and the page prefills)."""
    dumped = config.model_dump(mode="json")
    return {name: dumped[name] for name in SESSION_FIELDS}


def config_for_session(base: RolloutConsoleConfig, body: Mapping[str, Any]) -> RolloutConsoleConfig:
    """A full config: ``base`` (the command line's) with the session fields of ``body`` replacing its own.

    Raises SessionConfigError naming every refused field.
    """
    issues: list[dict[str, Any]] = []
    for name in body:
        if name in MACHINE_FIELDS:
            issues.append(_issue("machine_field", [name], f"{name} is fixed by the command line (--{name}.*) and "
                                 "cannot change per session; restart rollout-console to change it"))
        elif name not in SESSION_FIELDS:
            issues.append(_issue("extra_forbidden", [name], f"unknown field; a session sets {', '.join(SESSION_FIELDS)}"))
    if issues:
        raise SessionConfigError(issues)
    chosen = {name: _plain(value) for name, value in body.items()}
    _confine_policies(chosen, base, issues)
    _confine_dataset(chosen, base, issues)
    _confine_evaluation(chosen, base, issues)
    if issues:
        raise SessionConfigError(issues)
    raw = {**base.model_dump(mode="json", exclude_unset=True), **chosen}
    if "teleop" not in base.model_fields_set:
        raw.pop("teleop", None)  # derived from the robot, as on the command line
    try:
        return RolloutConsoleConfig.model_validate(raw)
    except ValidationError as exc:
        raise SessionConfigError(_issues_of(exc, raw)) from None


# ------------------------------------------------------------------------------------------ paths


def _confine_policies(chosen: dict[str, Any], base: RolloutConsoleConfig, issues: list[dict[str, Any]]) -> None:
    policies_dir = base.server.policies_dir
    root = Path(policies_dir).expanduser().resolve() if policies_dir else None
    policy = chosen.get("policy")
    if isinstance(policy, dict) and isinstance(policy.get("path"), str):
        _confine_policy(policy, ["policy", "path"], root, issues)
    strategy = chosen.get("strategy")
    entries = strategy.get("policies") if isinstance(strategy, dict) else None
    if isinstance(entries, list):
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            target = entry["policy"] if isinstance(entry.get("policy"), dict) else entry
            loc: list[str | int] = ["strategy", "policies", index, *(["policy"] if target is not entry else []), "path"]
            if isinstance(target.get("path"), str):
                _confine_policy(target, loc, root, issues)


def _confine_policy(policy: dict[str, Any], loc: list[str | int], root: Path | None,
                    issues: list[dict[str, Any]]) -> None:
    features = policy.get("features_from")
    if isinstance(features, str) and features.strip():
        _confine_features(policy, features.strip(), loc[:-1] + ["features_from"], root, issues)
    text = policy["path"].strip()
    if text.startswith(_BUILTIN):
        if not _BUILTIN_NAME.match(text[len(_BUILTIN):]):
            issues.append(_issue("path_not_allowed", loc, "a built-in is builtin:NAME, NAME one of the console's "
                                 "built-in checkpoints (no folders)", text))
        return
    local = Path(text)
    candidate = (local if local.is_absolute() or root is None else root / local)
    if candidate.exists() or local.is_absolute() or ".." in local.parts or text.startswith(("~", ".")):
        if root is None:
            issues.append(_issue("path_not_allowed", loc, "a local checkpoint needs --server.policies_dir on the "
                                 "command line; give a built-in (builtin:NAME) or a Hub id (owner/name)", text))
            return
        resolved = candidate.resolve()
        if not resolved.is_relative_to(root):
            issues.append(_issue("path_not_allowed", loc, f"must be under --server.policies_dir ({root})", text))
            return
        if not resolved.exists():
            issues.append(_issue("path_missing", loc, f"no checkpoint at {resolved}", text))
            return
        policy["path"] = str(resolved)
        return
    if not _HUB_ID.match(text):
        where = f"under {root}" if root is not None else "here (no --server.policies_dir)"
        issues.append(_issue("path_not_allowed", loc, f"not a built-in (builtin:NAME), a Hub id (owner/name) or a "
                             f"checkpoint {where}", text))
    elif local.exists():  # the loaders would read it as a folder relative to the server's working directory
        issues.append(_issue("path_not_allowed", loc, "names a folder relative to the server's working directory, "
                             "not a Hub id; put the checkpoint under --server.policies_dir", text))


def _confine_features(policy: dict[str, Any], text: str, loc: list[str | int], root: Path | None,
                      issues: list[dict[str, Any]]) -> None:
    """``policy.features_from`` is a dataset folder: it must be under --server.policies_dir (with the checkpoint)."""
    local = Path(text).expanduser()
    resolved = (local if local.is_absolute() or root is None else root / local).resolve()
    if root is None or not resolved.is_relative_to(root):
        issues.append(_issue("path_not_allowed", loc, "a features dataset from the web must be under "
                             "--server.policies_dir" + (f" ({root})" if root is not None else " (not set)"), text))
        return
    policy["features_from"] = str(resolved)


def _below(path: Path, home: Path) -> bool:
    """Strictly inside ``home`` and not in the console's own folder there (the sessions file)."""
    return path != home and path.is_relative_to(home) and not path.is_relative_to(home / _HISTORY_DIR)


def _confine_evaluation(chosen: dict[str, Any], base: RolloutConsoleConfig, issues: list[dict[str, Any]]) -> None:
    """An evaluation's results folder stays under the data folder; its success detector (code the server
    imports) is the command line's to choose."""
    strategy = chosen.get("strategy")
    if not isinstance(strategy, dict):
        return
    output = strategy.get("output_dir")
    if isinstance(output, str) and output.strip():
        home = data_dir(base)
        local = Path(output.strip()).expanduser()
        resolved = (local if local.is_absolute() else home / local).resolve()
        if not _below(resolved, home):
            issues.append(_issue("path_not_allowed", ["strategy", "output_dir"],
                                 f"must be a folder under --server.data_dir ({home})", output))
        else:
            strategy["output_dir"] = str(resolved)
    detector = strategy.get("success_detector")
    allowed = getattr(base.strategy, "success_detector", None)
    if detector is not None and detector != allowed:
        issues.append(_issue("machine_field", ["strategy", "success_detector"], "the success detector is code the "
                             "server imports: only --strategy.success_detector on the command line chooses it",
                             detector))


def _confine_dataset(chosen: dict[str, Any], base: RolloutConsoleConfig, issues: list[dict[str, Any]]) -> None:
    dataset = chosen.get("dataset")
    if not isinstance(dataset, dict):
        return
    home = data_dir(base)
    given = dataset.get("root")
    if isinstance(given, str) and given.strip():
        local = Path(given.strip())
        resolved = (local if local.is_absolute() else home / local).resolve()
        if not _below(resolved, home):
            issues.append(_issue("path_not_allowed", ["dataset", "root"],
                                 f"must be a folder under --server.data_dir ({home})", given))
            return
        dataset["root"] = str(resolved)
        return
    if given is not None and not isinstance(given, str):
        return  # the model reports the wrong type
    try:  # pin the (stamped) repo id, so the directory and the Hub name agree
        spec = DatasetConfig.model_validate(dataset)
    except ValidationError:
        return  # reported with its field by the full validation
    repo_id = effective_repo_id(spec, bool(chosen.get("resume", base.resume)))
    dataset.update(repo_id=repo_id, stamp_repo_id=False, root=str(home / repo_id))


# ----------------------------------------------------------------------------------------- issues


def _plain(value: Any) -> Any:
    """A deep copy of JSON-like data (the body is never modified)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _issue(kind: str, loc: list[str | int], msg: str, value: Any = None) -> dict[str, Any]:
    issue: dict[str, Any] = {"type": kind, "loc": ["body", *loc], "msg": msg}
    if value is not None:
        issue["input"] = value
    return issue


def _issues_of(exc: ValidationError, raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """pydantic's errors with locations that name fields (union tags dropped; a model rule names its flag)."""
    from .flags import _describe, _flag_from_loc, flag_names

    known = flag_names()
    issues = []
    for error in exc.errors():
        flag = _flag_from_loc(error["loc"], raw, error["type"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found") and flag:
            flag += ".type"
        message = _describe(error, flag, known)
        if flag is None:  # a rule over several fields: name the flag it asks for, else the first it mentions
            asked = re.search(r"give --([a-z_]+(?:\.[a-z_]+)*)", message)
            mentioned = asked or _FLAG.search(message)
            flag = "--" + mentioned.group(1) if mentioned else None
        loc: list[str | int] = []
        for part in (flag or "").removeprefix("--").split("."):
            if not part:
                continue
            name, _, index = part.partition("[")
            loc.append(name)
            if index:
                loc.append(int(index.rstrip("]")))
        issues.append({"type": error["type"], "loc": ["body", *loc], "msg": message})
    return issues
