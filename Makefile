# Two commands on a fresh machine: `make run` (install + serve the demo), `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench bench-quick install

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/ledger serve --demo

test: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed
	$(BIN)/python -m bench.run

bench-quick: $(VENV)/.installed
	$(BIN)/python -m bench.run --quick
