"""Flags every browser test (tests/e2e)'s console gets, so a loaded machine cannot change what the page shows.

A camera frame older than ``--loop.max_observation_age_ms`` (500 ms by default) pauses the policy on its
own. On a machine shared with other work a sim camera can lag that much, and a page test that expects
``autonomous`` would then see ``paused``. Stale-camera pauses are tested on purpose elsewhere (unit
tests with fake clocks, and the fault suite); here they would only be noise.
"""

from __future__ import annotations

from helpers import SMALL_CAMERAS

PAGE_FLAGS = [*SMALL_CAMERAS, "--loop.max_observation_age_ms=10000"]
