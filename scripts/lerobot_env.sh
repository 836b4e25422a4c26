#!/usr/bin/env bash
# Creates (or brings up to date) .venv-lerobot: rollout-console + LeRobot 0.4.4 on CPU torch 2.13.0.
#
#   scripts/lerobot_env.sh            # idempotent: does nothing when the inputs did not change
#   scripts/lerobot_env.sh --force    # reinstall into the existing venv
#   VENV=/opt/venv PYTHON=python3.11 scripts/lerobot_env.sh
#
# Why not `pip install lerobot`: lerobot 0.4.4 declares torch<2.11 (and torchvision<0.26,
# torchcodec<0.11), so pip would swap our CPU torch 2.13.0 for a CUDA build of several GB. Instead:
#   1. torch 2.13.0 (the CPU wheel this machine offers) under constraints.txt;
#   2. LeRobot's runtime dependencies from requirements/lerobot.txt, bounded by
#      requirements/lerobot-constraints.txt, together with rollout-console itself (editable, [test]);
#   3. lerobot==0.4.4 and torchcodec==0.13.0 with --no-deps;
#   4. a smoke check: CPU torch, LeRobot importable through our torchvision shim, torchcodec loads.
# torchcodec needs FFmpeg's shared libraries (Debian: apt-get install --no-install-recommends ffmpeg).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv-lerobot}"
PYTHON="${PYTHON:-python3.11}"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

cd "$ROOT"
say() { printf 'lerobot-env: %s\n' "$*"; }
die() { printf 'lerobot-env: error: %s\n' "$*" >&2; exit 1; }

# -- FFmpeg shared libraries for torchcodec ---------------------------------------------------------
LDCONFIG="$(command -v ldconfig || echo /sbin/ldconfig)"
if ! "$LDCONFIG" -p 2>/dev/null | grep -q 'libavcodec\.so'; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    say "installing Debian ffmpeg (torchcodec needs its shared libraries)"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ffmpeg
  else
    die "FFmpeg libraries not found; run: sudo apt-get install -y --no-install-recommends ffmpeg"
  fi
fi

# -- idempotence: a stamp holding the hash of every input -----------------------------------------
INPUTS=(constraints.txt requirements/lerobot.txt requirements/lerobot-constraints.txt pyproject.toml
        scripts/lerobot_env.sh)
HASH="$(cat "${INPUTS[@]}" | sha256sum | cut -c1-16)"
STAMP="$VENV/.rollout-console-lerobot"
if [[ $FORCE == 0 && -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" ]]; then
  say "$VENV is up to date ($HASH)"
  exit 0
fi

START=$SECONDS
if [[ ! -x "$VENV/bin/python" ]]; then
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found (the CPU torch wheel exists for CPython 3.11 only)"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "$PYTHON is not Python 3.11 (set PYTHON=python3.11)"
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q -c constraints.txt
     -c requirements/lerobot-constraints.txt)
"${PIP[@]}" --upgrade pip
say "torch 2.13.0 (CPU)"
"${PIP[@]}" "torch==2.13.0"
say "LeRobot's dependencies and rollout-console (editable)"
"${PIP[@]}" -r requirements/lerobot.txt -e ".[test]"
say "lerobot 0.4.4 and torchcodec 0.13.0 (--no-deps)"
"${PIP[@]}" --no-deps "lerobot==0.4.4" "torchcodec==0.13.0"

say "checking the environment"
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
import sys

import torch

assert torch.__version__.endswith("+cpu"), f"torch {torch.__version__} is not the CPU build"
cuda = sorted(d.metadata["Name"] for d in md.distributions() if d.metadata["Name"].lower().startswith("nvidia-"))
assert not cuda, f"CUDA wheels crept in: {cuda}"
from rollout_console.hardware.lerobot import _torchvision_cpu  # noqa: F401  (before any torchvision import)
import lerobot
from lerobot.datasets.lerobot_dataset import LeRobotDataset  # noqa: F401
from lerobot.robots import RobotConfig  # noqa: F401
import torchcodec.decoders  # noqa: F401  (loads FFmpeg)

print(f"lerobot-env: python {sys.version.split()[0]}, torch {torch.__version__}, lerobot {lerobot.__version__}, "
      f"torchvision {md.version('torchvision')}, torchcodec {md.version('torchcodec')}")
PY
echo "$HASH" > "$STAMP"
say "ready in $((SECONDS - START)) s: $(du -sh "$VENV" | cut -f1) at $VENV"
