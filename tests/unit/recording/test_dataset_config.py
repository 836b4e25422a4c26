"""DatasetConfig validation, repo-id stamping and the default dataset location."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from rec_helpers import small_layout
from rollout_console.config.dataset import (
    DatasetConfig,
    effective_repo_id,
    lerobot_home,
    resolve_root,
    stamped_repo_id,
)
from rollout_console.recording import RecorderSpec

WHEN = datetime(2026, 3, 4, 5, 6, 7)


def test_defaults() -> None:
    cfg = DatasetConfig(repo_id="alice/pick_cube")
    assert (cfg.video, cfg.vcodec, cfg.crf, cfg.gop, cfg.push_to_hub, cfg.private) == (True, "libsvtav1", 30, 2,
                                                                                        True, False)
    assert cfg.fps is None and cfg.root is None and cfg.single_task == "" and cfg.tags == []
    assert cfg.stamp_repo_id is True and cfg.max_encoder_backlog_s == 10.0


def test_tags_accept_a_comma_separated_flag_and_presets_accept_numbers() -> None:
    assert DatasetConfig(repo_id="a/b", tags="so101, sim ,pick").tags == ["so101", "sim", "pick"]
    assert DatasetConfig(repo_id="a/b", tags=["x"]).tags == ["x"]
    assert DatasetConfig(repo_id="a/b", preset=8).preset == "8"


@pytest.mark.parametrize("repo_id", ["noslash", "a/b/c", "/name", "owner/", "own er/name", "a/../b", "a/" + "x" * 95])
def test_repo_id_must_be_owner_slash_name(repo_id) -> None:
    with pytest.raises(ValidationError, match="repo_id"):
        DatasetConfig(repo_id=repo_id)


@pytest.mark.parametrize(
    "fields,flag",
    [
        ({"vcodec": "h264", "crf": 52}, "--dataset.crf=52 is out of range for --dataset.vcodec=h264"),
        ({"crf": 64}, "--dataset.crf=64 is out of range for --dataset.vcodec=libsvtav1"),
        ({"preset": "veryfast"}, "--dataset.preset=veryfast is not a preset of --dataset.vcodec=libsvtav1"),
        ({"vcodec": "h264", "preset": "12"}, "--dataset.preset=12 is not a preset of --dataset.vcodec=h264"),
        ({"video": False, "preset": "10"}, "--dataset.preset and --dataset.encoder_threads need --dataset.video=true"),
    ],
)
def test_cross_field_rules_name_the_flags(fields, flag) -> None:
    with pytest.raises(ValidationError) as caught:
        DatasetConfig(repo_id="a/b", **fields)
    assert flag in str(caught.value)


def test_unknown_fields_are_errors() -> None:
    with pytest.raises(ValidationError, match="extra"):
        DatasetConfig(repo_id="a/b", push_to_hubb=False)


def test_stamping_applies_to_new_datasets_only() -> None:
    cfg = DatasetConfig(repo_id="alice/pick")
    assert stamped_repo_id("alice/pick", WHEN) == "alice/pick_20260304_050607"
    assert effective_repo_id(cfg, resume=False, when=WHEN) == "alice/pick_20260304_050607"
    assert effective_repo_id(cfg, resume=True, when=WHEN) == "alice/pick"
    off = DatasetConfig(repo_id="alice/pick_v2", stamp_repo_id=False)
    assert effective_repo_id(off, resume=False, when=WHEN) == "alice/pick_v2"


def test_root_defaults_under_hf_lerobot_home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    cfg = DatasetConfig(repo_id="alice/pick")
    assert lerobot_home() == tmp_path / "home"
    assert resolve_root(cfg, resume=False, repo_id="alice/pick_20260304_050607") == \
        tmp_path / "home/alice/pick_20260304_050607"
    assert resolve_root(cfg, resume=True) == tmp_path / "home/alice/pick"
    explicit = DatasetConfig(repo_id="alice/pick", root=str(tmp_path / "mine"))
    assert resolve_root(explicit, resume=False) == tmp_path / "mine"
    monkeypatch.delenv("HF_LEROBOT_HOME")
    assert lerobot_home() == Path("~/.cache/huggingface/lerobot").expanduser()


def test_spec_from_config(tmp_path) -> None:
    cfg = DatasetConfig(repo_id="alice/pick", vcodec="h264", crf=20, preset="fast", gop=10, encoder_threads=2,
                        max_encoder_backlog_s=3)
    spec = RecorderSpec.from_config(cfg, root=tmp_path / "ds", repo_id="alice/pick", layout=small_layout(), fps=25,
                                    robot_type="so101_follower", intervention=True, extras={"outcome": "string"})
    assert spec.fps == 25 and spec.robot_type == "so101_follower" and spec.max_encoder_backlog_s == 3
    assert spec.video is not None and spec.video.options() == {"crf": "20", "g": "10", "preset": "fast", "threads": "2"}
    assert spec.features["intervention"]["dtype"] == "bool"
    assert spec.features["observation.images.front"]["dtype"] == "video"
    images = RecorderSpec.from_config(DatasetConfig(repo_id="a/b", video=False), root=tmp_path, repo_id="a/b",
                                      layout=small_layout(), fps=30, robot_type=None)
    assert images.video is None and images.features["observation.images.top"]["dtype"] == "image"
    with pytest.raises(ValueError, match="reserved"):
        RecorderSpec(root=tmp_path, repo_id="a/b", fps=30, features=spec.features, extras={"length": "int64"})
    with pytest.raises(ValueError, match="type"):
        RecorderSpec(root=tmp_path, repo_id="a/b", fps=30, features=spec.features, extras={"note": "blob"})
