"""The LeRobot adapters tested against LeRobot-shaped fakes: these run without LeRobot installed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # duck_devices
