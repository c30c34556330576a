# Two entry points: `make demo` and `make test`. Each creates .venv if needed and installs
# torch==2.13.0 first (a local CPU wheel on the project machines), then the package.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ctxemb-installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m ctxemb demo

lint: $(STAMP)
	$(BIN)/ruff check ctxemb tests examples benchmarks
	$(BIN)/ruff format --check ctxemb tests examples benchmarks

test: lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/extract_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
