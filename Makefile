# Two entry points: `make demo` and `make test`. Each creates .venv if needed and installs
# torch==2.13.0 first (a local CPU wheel on the project machines), then the package with every extra.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ctxemb-installed

.PHONY: demo test lint typecheck pytest docs dist-check bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m ctxemb demo

lint: $(STAMP)
	$(BIN)/ruff check ctxemb tests examples benchmarks docs tools
	$(BIN)/ruff format --check ctxemb tests examples benchmarks docs tools

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

# The docs site, offline, warnings as errors (output in docs/_build/html).
docs: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

test: lint typecheck pytest docs

# Build the wheel and sdist, check them with twine, install the wheel (no extras) into a fresh venv and use it.
dist-check: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python tools/dist_check.py

bench: $(STAMP)
	$(BIN)/python benchmarks/extract_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache docs/_build dist build
