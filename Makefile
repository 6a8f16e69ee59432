# Two commands on a fresh machine: `make run` (install + serve the demo), `make test`.
#
# Every target installs exactly what uv.lock says (`uv sync --locked`) into .venv, with the
# machine's own Python 3.11 (requires-python, .python-version); nothing downloads a Python
# build. The venv is synced again whenever uv.lock or pyproject.toml changes. uv itself is
# bootstrapped with pip, at a pinned version, into .tools/ (outside .venv, which uv manages).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
UV_HOME := .tools/uv-$(UV_VERSION)
UV := $(UV_HOME)/bin/uv

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)


.PHONY: run test lint bench bench-quick install lock screenshots verifier


$(UV):
	rm -rf $(UV_HOME)
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) --version

$(VENV)/.synced: uv.lock pyproject.toml ledger/verify/_entrywalk.c ledger/http/api/_jsonkeys.c | $(UV)
	$(UV) sync --locked --extra test --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

# Rewrite uv.lock after editing pyproject.toml; `make lock UPGRADE=babel` moves one package
# to its newest allowed version (then run `make test`). See README, "Dependencies".
lock: | $(UV)
	$(UV) lock --python $(PYTHON) $(if $(UPGRADE),--upgrade-package $(UPGRADE))

run: $(VENV)/.synced
	$(BIN)/ledger serve --demo

lint: $(VENV)/.synced
	$(BIN)/ruff check .

test: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: $(VENV)/.synced
	$(BIN)/python -m bench.run

verifier:  # the standalone ledger-verify wheel (cryptography is its only dependency)
	python3 verifier/build.py dist

bench-quick: $(VENV)/.synced
	$(BIN)/python -m bench.run --quick

# Pictures of every console screen at phone width (390 px) for the staff guide
# (docs/PANDUAN-STAF.md), taken by the Playwright tests in Debian's Chromium.
screenshots: $(VENV)/.synced
	LEDGER_SCREENSHOTS=docs/console $(BIN)/python -m pytest -q tests/console/test_console_browser.py tests/console/test_console_admin.py -k "390 or phone_width"
