"""Install the peer arm as a third-party LeRobot plugin, the way LeRobot discovers them.

``register_third_party_plugins`` imports every installed distribution named ``lerobot_robot_*``. Here the
distribution is a ``.dist-info`` plus a one-line package in a site folder that goes on ``PYTHONPATH`` of
both programs; the package imports ``benchmarks.peer.peer_arm``, which registers ``peer_arm`` and
``peer_camera``. Nothing is installed into the LeRobot environment itself.
"""

from __future__ import annotations

from pathlib import Path

DIST = "lerobot_robot_peer_arm"
VERSION = "0.1.0"


def install_plugin(site: Path) -> Path:
    """Write the plugin distribution into ``site`` (idempotent); returns ``site``."""
    package = site / DIST
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("from benchmarks.peer import peer_arm  # registers peer_arm, peer_camera\n")
    info = site / f"{DIST}-{VERSION}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {VERSION}\n")
    return site
