# Two commands do all set-up on a fresh machine:
#   make demo   -> creates .venv if missing, installs hpstudy, runs a small real study
#   make test   -> same set-up, then the whole test suite (and the docs build)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-install

.PHONY: demo demo-digits test test-fast docs lint bench clean install chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev,dask,example,bench]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/python -m examples.jellyfish demo

demo-digits: $(STAMP)
	$(BIN)/python -m hpstudy.demo

test: $(STAMP) chromium
	$(BIN)/ruff check hpstudy tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -m "not slow"
	$(BIN)/python -m pytest -q -m slow
	$(BIN)/python -m pytest -q --doctest-modules hpstudy --ignore=hpstudy/demo.py
	TF_CPP_MIN_LOG_LEVEL=3 $(BIN)/sphinx-build -W -q -b html docs docs/_build/html

# the report's browser test needs a headless Chromium (Debian's package)
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

docs: $(STAMP)
	$(BIN)/sphinx-build -W -q -b html docs docs/_build/html

lint: $(STAMP)
	$(BIN)/ruff check hpstudy tests benchmarks examples
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/pip install --quiet -e ".[peers]"
	HPSTUDY_REQUIRE_PEERS=1 $(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) docs/_build .pytest_cache
