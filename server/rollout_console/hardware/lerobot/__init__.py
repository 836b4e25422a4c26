"""Adapters that drive LeRobot robots and teleoperators through our protocols (optional extra).

Nothing here imports LeRobot at module level: ``rollout_console.hardware.lerobot.factory`` imports it
when a ``--robot.type`` / ``--teleop.type`` that is not built in is selected. Install the extra with
``scripts/lerobot_env.sh`` (see docs/lerobot.md).
"""
