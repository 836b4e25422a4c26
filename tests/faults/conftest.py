"""The fault suite's scenarios live in the repository's ``faults`` package (shared with ``make faults``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
