"""The ``peer`` benchmark: LeRobot's ``lerobot-rollout`` and the console side by side on one LeRobot plugin.

Modules that import LeRobot (``config_peer_arm``, ``peer_arm``, ``checkpoint``) run only in the Python 3.12
LeRobot environment (``.venv-lerobot``); the rest (runners, trace analysis, table) also runs in ``.venv``.
"""
