# rollout-console: the two commands are `make run` and `make test` (see README.md).
PYTHON      ?= python3
VENV        := .venv
PY          := $(VENV)/bin/python
PIP         := $(PY) -m pip install --disable-pip-version-check -c constraints.txt
LEROBOT_PY  := .venv-lerobot/bin/python
STAMP       := $(VENV)/.installed
TEST_STAMP  := $(VENV)/.installed-test
ARGS        ?=
PYTEST_ARGS ?=
CHROMIUM    ?= /usr/bin/chromium
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install install-test run test test-core typecheck test-lerobot lerobot-env bench faults chromium clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) "torch==2.13.0"
	$(PIP) -e .
	@touch $@

install-test: $(TEST_STAMP)

$(TEST_STAMP): $(STAMP)
	$(PIP) -e ".[test]"
	@touch $@

# Start the console on the built-in simulated robot; extra flags via ARGS="--fps=50 ...".
run: install
	$(VENV)/bin/rollout-console $(ARGS)

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian chromium for the browser tests"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

# Every test: the core suite in .venv (Python 3.11, CPU torch), then the LeRobot suite (LeRobot's own reader
# and tools, ACT trained by lerobot-train, LeRobot devices, Python 3.12's PyAV) in .venv-lerobot
# (Python 3.12, LeRobot 0.6.1).
test: test-core test-lerobot

test-core: install-test chromium typecheck
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(PY) -m pytest --ignore=tests/lerobot $(PYTEST_ARGS)

# mypy over server/ (configuration in pyproject.toml, [tool.mypy]); must report no error.
typecheck: install-test
	$(PY) -m mypy

# The optional LeRobot environment: Python 3.12, pip install -e ".[lerobot,test]" "lerobot[training]==0.6.1"
# under requirements/lerobot-constraints.txt (about 5.5 GB, a few minutes; idempotent).
lerobot-env:
	scripts/lerobot_env.sh

test-lerobot: lerobot-env
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(LEROBOT_PY) -m pytest tests/lerobot $(PYTEST_ARGS)

bench: install-test
	HF_HUB_OFFLINE=1 $(PY) -m benchmarks $(ARGS)

# The long fault suite (SIGTERM/SIGINT/kill trials, disk full, encoder failure, lease lapse, stale camera,
# 10 minutes of overload) with its figures; tests/faults runs a short version of each in `make test`.
faults: install-test
	HF_HUB_OFFLINE=1 $(PY) -m faults $(ARGS)

clean:
	rm -rf $(VENV) .venv-lerobot build dist .pytest_cache .mypy_cache
