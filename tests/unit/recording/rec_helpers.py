"""Helpers for the recording tests: a small robot layout, deterministic frames, recording loops."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from rollout_console.features import FeatureLayout
from rollout_console.recording import EpisodeRecorder, RecorderSpec, VideoSettings, dataset_features

HEIGHT, WIDTH = 48, 64
FPS = 30


def small_layout(cameras: tuple[str, ...] = ("front", "top"), env: bool = True) -> FeatureLayout:
    return FeatureLayout(
        state_names=("shoulder_pan.pos", "elbow_flex.pos", "gripper.pos"),
        env_names=("env.object_x", "env.object_y") if env else (),
        camera_shapes={name: (HEIGHT, WIDTH, 3) for name in cameras},
        action_names=("shoulder_pan.pos", "elbow_flex.pos", "gripper.pos"),
    )


def make_spec(root: Path, *, layout: FeatureLayout | None = None, vcodec: str = "libsvtav1", video: bool = True,
              intervention: bool = False, extras: dict[str, str] | None = None, fps: float = FPS,
              robot_type: str | None = "sim_so101", **kwargs: Any) -> RecorderSpec:
    layout = layout or small_layout()
    return RecorderSpec(
        root=root,
        repo_id="tester/recording",
        fps=fps,
        features=dataset_features(layout, video=video, intervention=intervention),
        robot_type=robot_type,
        video=VideoSettings(vcodec=vcodec, threads=1) if video else None,
        extras={"outcome": "string"} if extras is None else extras,
        **kwargs,
    )


def image(episode: int, frame: int, camera: int) -> np.ndarray:
    """A deterministic, recognisable frame: flat grey level from (episode, frame, camera) plus a bar."""
    level = (40 + 7 * frame + 50 * camera + 13 * episode) % 200 + 20
    img = np.full((HEIGHT, WIDTH, 3), level, dtype=np.uint8)
    img[:, (frame * 3) % WIDTH: (frame * 3) % WIDTH + 4] = 255 - level
    return img


def frame(layout: FeatureLayout, episode: int, i: int, intervention: bool | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "observation.state": np.array([episode, i, 0.5 * i], dtype=np.float32),
        "action": np.array([episode + 0.25, i + 0.25, -i], dtype=np.float32),
    }
    if layout.env_names:
        data["observation.environment_state"] = np.array([i * 0.01, -i * 0.01], dtype=np.float32)
    for c, name in enumerate(layout.camera_names):
        data[f"observation.images.{name}"] = image(episode, i, c)
    if intervention is not None:
        data["intervention"] = intervention
    return data


def record(recorder: EpisodeRecorder, layout: FeatureLayout, lengths: list[int], *, task: str = "pick the cube",
           extra: dict[str, Any] | None = None, intervention: bool = False, first_episode: int = 0) -> list:
    """Record one episode per length and return the EpisodeInfo of each (waits until durable)."""
    infos = []
    for n, length in enumerate(lengths):
        recorder.start_episode(task)
        for i in range(length):
            recorder.add_frame(frame(layout, first_episode + n, i, (i % 4 == 1) if intervention else None))
        infos.append(recorder.save_episode(extra or {}).result(timeout=60))
    return infos


def read_data(root: Path) -> dict[str, list]:
    """Every data parquet file concatenated, as Python lists."""
    tables = [pq.read_table(p) for p in sorted((root / "data").glob("*/*.parquet"))]
    merged: dict[str, list] = {}
    for table in tables:
        for name in table.column_names:
            merged.setdefault(name, []).extend(table.column(name).to_pylist())
    return merged


CALLER_THREAD = "test-caller"


def must_return(call: Callable[[], Any], timeout: float = 30.0, what: str = "the call") -> Any:
    """Run ``call`` on a thread named CALLER_THREAD and fail (instead of hanging) if it does not return.

    With a gate closed in front of the encoders, a call that waited for them could never return: this
    turns "never blocks" into a deadlock the test detects, whatever the machine's load.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # re-raised on the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=CALLER_THREAD, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"{what} did not return within {timeout:g} s: it waits for the gated work"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


class EncoderGate:
    """Holds every ``VideoFileEncoder.encode`` call until ``open()`` (installed with monkeypatch).

    Lets a test fall behind on encoding by exactly as much as it wants, instead of with sleeps.
    ``threads`` records which threads tried to encode.
    """

    def __init__(self, monkeypatch: Any, closed: bool = True) -> None:
        from rollout_console.recording.video import VideoFileEncoder

        self._open = threading.Event()
        if not closed:
            self._open.set()
        self.threads: set[str] = set()
        real_encode = VideoFileEncoder.encode
        gate = self

        def gated_encode(encoder: Any, *args: Any, **kwargs: Any) -> Any:
            gate.threads.add(threading.current_thread().name)
            gate._open.wait(120)  # never forever: a failed test must still be able to close its recorder
            return real_encode(encoder, *args, **kwargs)

        monkeypatch.setattr(VideoFileEncoder, "encode", gated_encode)

    def open(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._open.clear()
