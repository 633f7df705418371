# Lantern Shop: the menu. `make run` and `make test` are the two commands a newcomer needs.
SHELL := /bin/bash
UV ?= uv
export UV_PYTHON ?= python3

.PHONY: help install run test lint fmt typecheck unit integration clean

help: ## show this menu
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## create .venv with every workspace package and dev tool (uv sync)
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet uv
	$(UV) sync --all-packages --frozen --quiet

run: install ## run the whole shop locally on an embedded AWS endpoint (Ctrl-C stops it)
	$(UV) run --frozen python -m devstack

lint: install ## ruff (style, bugs) and mypy (types)
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

fmt: install ## format and auto-fix
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

test: lint ## lint, type-check, then every test (unit, integration, e2e, manifests)
	$(UV) run --frozen pytest

clean: ## remove the virtualenv and caches
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
