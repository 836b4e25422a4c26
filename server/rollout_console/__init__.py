"""rollout-console: a web-controlled operator console for deploying robot-learning policies."""

__version__ = "0.1.0"
