# Everything a newcomer, a developer or CI runs. Each target installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-tools wheel-check lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## set up, then run the main job on the embedded sample
	$(BIN)/archiver demo demo

test-tools: $(STAMP)  ## the real tools the site tests drive: chromium, Playwright, LinkChecker, vnu, axe-core
	bash .ci/install-test-tools $(VENV)

test: $(STAMP) test-tools  ## set up, then run lint (ruff, mypy), the tests and the wheel check
	$(BIN)/ruff check archiver tests benchmarks
	$(BIN)/ruff format --check archiver tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q
	bash .ci/wheel-check $(PYTHON)

wheel-check:  ## build a wheel, install it in a fresh venv in a temp folder, run the demo with it
	bash .ci/wheel-check $(PYTHON)

lint: $(STAMP)
	$(BIN)/ruff check archiver tests benchmarks
	$(BIN)/ruff format --check archiver tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format archiver tests benchmarks
	$(BIN)/ruff check --fix archiver tests benchmarks

golden: $(STAMP)  ## rewrite tests/golden/ from the demo's site, on purpose (review the diff)
	$(BIN)/python -m tests.golden

bench: $(STAMP)  ## speed and memory figures for docs/performance.md
	$(BIN)/python -m benchmarks.store_bench

clean:
	rm -rf $(VENV) demo site .pytest_cache .ruff_cache .mypy_cache .tools test-artifacts
