# Everything a newcomer, a developer or CI runs. Each target installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-tools lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## set up, then run the main job on the embedded sample
	$(BIN)/archiver demo demo

test-tools: $(STAMP)  ## the real tools the site tests drive: chromium, Playwright, LinkChecker, vnu, axe-core
	bash .ci/install-test-tools $(VENV)

test: $(STAMP) test-tools  ## set up, then run lint and the tests
	$(BIN)/ruff check archiver tests benchmarks
	$(BIN)/ruff format --check archiver tests benchmarks
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check archiver tests benchmarks
	$(BIN)/ruff format --check archiver tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format archiver tests benchmarks
	$(BIN)/ruff check --fix archiver tests benchmarks

bench: $(STAMP)  ## speed and memory figures for docs/performance.md
	$(BIN)/python -m benchmarks.store_bench

clean:
	rm -rf $(VENV) demo site .pytest_cache .ruff_cache .tools test-artifacts
