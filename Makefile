# Two commands: `make run` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test check unit bench i18n clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Loket needs Python 3.11 or newer"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Set up, migrate, seed the demo and serve on http://127.0.0.1:8000 (with the TEST login)
run: $(STAMP)
	LOKET_DEMO=$${LOKET_DEMO:-true} LOKET_OIDC_TEST_PROVIDER=$${LOKET_OIDC_TEST_PROVIDER:-1} $(BIN)/loket serve

## Set up and run every check and test
test: $(STAMP) check
	$(BIN)/python -m pytest

check: $(STAMP)
	$(BIN)/ruff check loket tests benchmarks
	$(BIN)/ruff format --check loket tests benchmarks
	$(BIN)/mypy loket/domain loket/services
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

## Benchmarks: print figures beside their baselines (not a test)
bench: $(STAMP)
	$(BIN)/python benchmarks/queue.py
	$(BIN)/python benchmarks/fanout.py
	$(BIN)/python benchmarks/statement.py
	$(BIN)/python benchmarks/call_setup.py
	$(BIN)/python benchmarks/figures.py
	$(BIN)/python benchmarks/assistant.py

## Refresh the message catalogs from the source
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -o loket/locale/messages.pot loket
	$(BIN)/pybabel update -i loket/locale/messages.pot -d loket/locale --no-fuzzy-matching

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
