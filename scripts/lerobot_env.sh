#!/usr/bin/env bash
# Creates (or brings up to date) .venv-lerobot: Python 3.12 + rollout-console[lerobot] with LeRobot 0.6.1.
#
#   scripts/lerobot_env.sh            # idempotent: does nothing when the inputs did not change
#   scripts/lerobot_env.sh --force    # reinstall into the existing venv
#   VENV=/opt/venv PYTHON=/usr/bin/python3.12 scripts/lerobot_env.sh
#
# It installs the way a user does, with nothing forced past pip's resolver:
#   pip install -e ".[lerobot,test]" "lerobot[training]==0.6.1"
# bounded by requirements/lerobot-constraints.txt (the exact versions of this development venv; users
# need no constraints file). LeRobot 0.5+ needs Python >= 3.12, and for Python 3.12 PyPI serves Linux torch
# only as CUDA builds (they run on CPU): the venv is about 5.5 GB. `[training]` adds what `lerobot-train`
# needs (wandb, accelerate), which the LeRobot suite runs; the console itself does not need it.
# torchcodec (LeRobot's video decoder) needs FFmpeg's shared libraries (Debian: apt-get install ffmpeg).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv-lerobot}"
LEROBOT_VERSION="0.6.1"
PYAV_LATEST="19.0.2"
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

cd "$ROOT"
say() { printf 'lerobot-env: %s\n' "$*"; }
die() { printf 'lerobot-env: error: %s\n' "$*" >&2; exit 1; }

# -- Python 3.12: $PYTHON, python3.12 on PATH, or a pyenv install ----------------------------------
find_python() {
  local candidate
  if [[ -n "${PYTHON:-}" ]]; then echo "$PYTHON"; return; fi
  if command -v python3.12 >/dev/null && python3.12 -c '' 2>/dev/null; then command -v python3.12; return; fi
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.*/bin/python3.12; do
    [[ -x "$candidate" ]] && { echo "$candidate"; return; }
  done
  echo ""
}
is_312() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; }

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
INPUTS=(requirements/lerobot-constraints.txt pyproject.toml scripts/lerobot_env.sh)
HASH="$(cat "${INPUTS[@]}" | sha256sum | cut -c1-16)"
STAMP="$VENV/.rollout-console-lerobot"
if [[ $FORCE == 0 && -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$HASH" ]]; then
  say "$VENV is up to date ($HASH)"
  exit 0
fi

START=$SECONDS
if [[ -x "$VENV/bin/python" ]] && ! is_312 "$VENV/bin/python"; then
  say "$VENV is not a Python 3.12 venv (an older LeRobot 0.4 environment?): recreating it"
  rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  PY="$(find_python)"
  [[ -n "$PY" ]] || die "Python 3.12 not found (LeRobot 0.5 and later require it). Install it, e.g.
  pyenv install 3.12        (then re-run; pyenv versions under ~/.pyenv/versions/3.12.* are found)
  sudo apt-get install python3.12 python3.12-venv   (Ubuntu 24.04, Debian 13)
or point to one: PYTHON=/path/to/python3.12 scripts/lerobot_env.sh"
  is_312 "$PY" || die "$PY is not Python 3.12 (set PYTHON=/path/to/python3.12)"
  say "creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q -c requirements/lerobot-constraints.txt)
"${PIP[@]}" --upgrade pip
say "rollout-console[lerobot,test] (editable) and lerobot[training]==$LEROBOT_VERSION"
"${PIP[@]}" -e ".[lerobot,test]" "lerobot[training]==$LEROBOT_VERSION"

# LeRobot bounds PyAV (<16); a user installing the console on Python 3.12 without LeRobot gets the newest
# PyAV, whose stream rates are AVRational objects. The LeRobot suite also runs the recording round trip
# with that PyAV, from this side directory (PYTHONPATH), so no third venv is needed.
say "PyAV $PYAV_LATEST (side directory for the recording round trip with the newest PyAV)"
rm -rf "$VENV/pyav-latest"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps --target "$VENV/pyav-latest" \
  "av==$PYAV_LATEST"

say "checking the environment"
"$VENV/bin/python" -m pip check >/dev/null || { "$VENV/bin/python" -m pip check; die "pip check failed"; }
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
import sys

import torch
from rollout_console.hardware.lerobot.version import check_lerobot_version

check_lerobot_version()  # the same check the console runs before it uses LeRobot
import lerobot
from lerobot.datasets.lerobot_dataset import LeRobotDataset  # noqa: F401
from lerobot.robots import RobotConfig  # noqa: F401
import torchcodec.decoders  # noqa: F401  (loads FFmpeg)

print(f"lerobot-env: python {sys.version.split()[0]}, torch {torch.__version__}, lerobot {lerobot.__version__}, "
      f"torchvision {md.version('torchvision')}, torchcodec {md.version('torchcodec')}, av {md.version('av')}")
PY
echo "$HASH" > "$STAMP"
say "ready in $((SECONDS - START)) s: $(du -sh "$VENV" | cut -f1) at $VENV"
