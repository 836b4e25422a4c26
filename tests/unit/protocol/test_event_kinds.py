"""EVENT_KINDS lists every event kind the server publishes (the page has a sentence for each of them).

The server publishes events in a few ways: ``events.publish("kind", ...)`` and the recorder's, uploader's and
disk watcher's ``_emit("kind", ...)`` / ``_on_event("kind", ...)`` callbacks forwarded to the bus. This test
reads the source for those calls, so a new kind that is not listed (and so has no sentence on the page) fails
here, and so does a listed kind that nothing publishes any more.
"""

from __future__ import annotations

import re
from pathlib import Path

import rollout_console
from rollout_console.protocol.events import EVENT_KINDS

PACKAGE = Path(rollout_console.__file__).parent
CALL = re.compile(r"""(?:\.publish|_emit|_on_event)\(\s*["']([a-z_]+)["']""")


def published_kinds() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for match in CALL.finditer(path.read_text()):
            found.setdefault(match.group(1), []).append(str(path.relative_to(PACKAGE)))
    return found


def test_every_published_kind_is_listed() -> None:
    found = published_kinds()
    missing = {kind: where for kind, where in found.items() if kind not in EVENT_KINDS}
    assert not missing, f"add these kinds to protocol/events.py EVENT_KINDS (and a sentence in event-sentences.js): {missing}"


def test_every_listed_kind_is_published() -> None:
    found = published_kinds()
    stale = [kind for kind in EVENT_KINDS if kind not in found]
    assert not stale, f"listed in EVENT_KINDS but published nowhere: {stale}"
    assert len(set(EVENT_KINDS)) == len(EVENT_KINDS)


def test_the_scan_finds_the_known_publishers() -> None:
    found = published_kinds()
    assert "recording/recorder.py" in found["episode_saved"]
    assert "recording/uploader.py" in found["upload_done"]
    assert "recording/disk_space.py" in found["disk_low"]
