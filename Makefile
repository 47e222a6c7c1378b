# The two commands: `make run` (demo catalogue on http://127.0.0.1:8000/) and `make test` (lint, then the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install browser-deps lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/edufed serve --demo

# Headless Chromium and a CJK font for the browser tests (Debian packages; needs root or sudo).
browser-deps:
	@if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi wqy; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei; \
	fi

# Lint first: a change that breaks ruff's format or checks, or mypy, fails CI before the longer test run.
# Where a hand-aligned table reads better than the formatter's layout, `# fmt: skip` keeps it.
test: install browser-deps lint
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff format --check config crawlers indexer search_api tests bench
	$(BIN)/ruff check config crawlers indexer search_api tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data test-artifacts .pytest_cache
