"""Inference engines: turn observations into actions, synchronously or with real-time chunking."""

from .base import ChunkMetrics, InferenceEngine
from .factory import build_engine
from .sync import SyncInferenceEngine

__all__ = ["ChunkMetrics", "InferenceEngine", "SyncInferenceEngine", "build_engine"]
