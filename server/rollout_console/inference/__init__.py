"""Inference engines: turn observations into actions, synchronously or with real-time chunking."""

from .base import ChunkMetrics, InferenceEngine, PlotTrace
from .factory import build_engine, build_engine_for
from .interpolator import ActionInterpolator
from .latency import DelayEstimator
from .rtc import RTCInferenceEngine
from .sync import SyncInferenceEngine

__all__ = [
    "ActionInterpolator",
    "ChunkMetrics",
    "DelayEstimator",
    "InferenceEngine",
    "PlotTrace",
    "RTCInferenceEngine",
    "SyncInferenceEngine",
    "build_engine",
    "build_engine_for",
]
