"""Recording: LeRobotDataset v3 writer, streaming video encoders, ring buffer, Hub uploader, recovery.

Entry points for the integrator:

* ``EpisodeRecorder`` (``create`` / ``resume`` / ``open``) with ``start_episode``, ``add_frame``,
  ``save_episode`` (a Future that resolves once the episode is durable), ``discard_episode``,
  ``status``, ``episodes``, ``close``; events through ``on_event(kind, data)``.
* ``RecorderSpec.from_config(DatasetConfig, ...)`` and ``dataset_features(layout, video, intervention)``.
* ``FrameRing`` for the highlight strategy's history (optional JPEG compression in a worker).
* ``HubUploader`` for background, snapshot-consistent pushes with retries (``snapshot_from_disk`` to
  push a dataset no recorder has open).
* ``verify_dataset(root)`` decodes and checks everything (crash tests, CI, operators).
"""

from .layout import dataset_features
from .metadata import Snapshot
from .recorder import EpisodeRecorder
from .recovery import RecoveryReport
from .ring_buffer import CompressedImage, DrainedFrames, FrameRing
from .uploader import HubUploader, UploadState, snapshot_from_disk
from .verify import VerifyReport, verify_dataset
from .video import VideoSettings
from .writer import EpisodeInfo, RecorderSpec

__all__ = [
    "CompressedImage",
    "DrainedFrames",
    "EpisodeInfo",
    "EpisodeRecorder",
    "FrameRing",
    "HubUploader",
    "RecorderSpec",
    "RecoveryReport",
    "Snapshot",
    "UploadState",
    "VerifyReport",
    "VideoSettings",
    "dataset_features",
    "snapshot_from_disk",
    "verify_dataset",
]
