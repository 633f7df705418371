# Lantern Shop: the menu. `make run` and `make test` are the two commands a newcomer needs.
SHELL := /bin/bash
# uv on PATH if there is one, else the copy `make install` puts next to python3.
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export UV_PYTHON ?= python3

.PHONY: help install run test lint fmt soak bench bench-check deploy-check load load-orders load-shop flags flag clean eks-plan eks-up eks-down

help: ## show this menu
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: ## create .venv with every workspace package and dev tool (uv sync)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv 2>/dev/null \
		|| python3 -m pip install --quiet --user --break-system-packages uv
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

# Load: hey against a running shop (make run, compose, or any base URL); fulfilled orders are
# counted in the orders table, by the run's order ids. Override e.g.
#   make load DURATION=60s CONCURRENCY=50 RATE=5 PRODUCER_URL=http://shop.example:8081
# and, for the table, AWS_ENDPOINT_URL / AWS_REGION / ORDERS_TABLE_NAME (default: make run's
# endpoint; compose's DynamoDB Local: AWS_ENDPOINT_URL=http://127.0.0.1:8000; AWS: AWS_ENDPOINT_URL=).
DURATION ?= 20s
CONCURRENCY ?= 20
RATE ?= 0
PRODUCER_URL ?= http://127.0.0.1:8081
FRONTEND_URL ?= http://127.0.0.1:8080
LOAD_ARGS = --duration $(DURATION) --concurrency $(CONCURRENCY) --rate $(RATE) \
	--producer $(PRODUCER_URL) --frontend $(FRONTEND_URL)
AWS_ENDPOINT_URL ?= http://127.0.0.1:4566
AWS_REGION ?= us-east-1
LOAD_ENV = AWS_ENDPOINT_URL=$(AWS_ENDPOINT_URL) AWS_REGION=$(AWS_REGION)
# An emulator takes any credentials; against AWS yours (profile, role) are used unchanged.
ifneq ($(AWS_ENDPOINT_URL),)
LOAD_ENV += AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-lantern-local} \
	AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-lantern-local}
endif

soak: install ## long fault soak (~15 min): 10,000 orders under make run's supervisor, consumer killed 4 times, AWS away 5 s
	$(UV) run --frozen pytest -m soak_long -s -q

bench: install ## benchmarks, peers side by side: prints ratios, writes bench/results/latest.json
	$(UV) run --frozen python -m bench

bench-check: ## fail when a figure of the last make bench misses its target (by hand, not in make test)
	$(UV) run --frozen python -m bench.check

deploy-check: install ## validate Dockerfiles, compose, manifests and alert rules (static checks)
	$(UV) run --frozen pytest tests/deploy -q

load: install ## hey the order API and the storefront; prints req/s, p50/p99, accepted vs fulfilled (by order id)
	$(LOAD_ENV) $(UV) run --frozen python -m load all $(LOAD_ARGS)

load-orders: install ## hey POST /orders only, then count the run's orders in the table by id
	$(LOAD_ENV) $(UV) run --frozen python -m load orders $(LOAD_ARGS)

load-shop: install ## hey the storefront's home and product pages
	$(LOAD_ENV) $(UV) run --frozen python -m load shop $(LOAD_ARGS)

flags: install ## list the scenario switches of the running shop (make run)
	@$(UV) run --frozen python -m devstack.flags

flag: install ## flip a scenario switch at runtime: make flag NAME=consumer-work-ms VARIANT=slow
	@$(UV) run --frozen python -m devstack.flags set $(NAME) $(VARIANT)

# The workshop on Amazon EKS (docs/workshop.md), one command each; k8s/eks/eks.sh prints every
# command it runs. Settings: AWS_REGION, CLUSTER_NAME, IMAGE_TAG, ALARM_EMAIL, LAB=blog;
# EKS_ARGS=--dry-run makes eks-up or eks-down print only.
eks-plan: ## print every command eks-up would run, without running any or asking AWS
	k8s/eks/eks.sh plan

eks-up: ## create or update the workshop on EKS: policies, cluster, controllers, images, the shop
	k8s/eks/eks.sh up $(EKS_ARGS)

eks-down: ## delete all eks-up made: AWS resources through ACK, controllers, cluster, policies, logs
	k8s/eks/eks.sh down $(EKS_ARGS)

clean: ## remove the virtualenv and caches
	rm -rf .venv .run .pytest_cache .mypy_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
