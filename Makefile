# BC-RAO Drafts — the front door. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
# `make token USER=alice`: USER only counts when given on the command line (the shell's own
# USER is the login name, not the user you want a token for).
TOKEN_USER := $(if $(filter command line,$(origin USER)),$(USER),demo)
PYTEST_ARGS ?=
# Python writes its compiled modules (__pycache__) whatever the caller's shell says: with
# PYTHONDONTWRITEBYTECODE set, every process (each service start, each pytest worker) compiled
# every module it imports from source again, and pytest rewrote every test module's asserts
# again: about twice the CPU of an import (draft-store's app: 2.2 -> 1.2 CPU-seconds).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup infra-up infra-down up down status logs token plan test test-unit test-random lint eval bench fuzz compose-check docs faults soak compat

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## Python environment (uv, locked deps), the Kafka and the LanguageTool jars
	@bash scripts/bootstrap.sh
	@bash deploy/local/kafka.sh fetch
	@bash deploy/local/languagetool.sh fetch

infra-up: setup ## Start the local Kafka (KRaft) and PostgreSQL
	@bash deploy/local/infra.sh up

infra-down: ## Stop the local Kafka and PostgreSQL
	@bash deploy/local/infra.sh down

up: infra-up ## Start everything (Kafka, PostgreSQL, three services, demo data) and print where to go
	@bash deploy/local/services.sh start
	@bash scripts/demo.sh

down: ## Stop everything `make up` started
	@bash deploy/local/services.sh stop
	@bash deploy/local/infra.sh down

status: ## What is running
	@bash deploy/local/services.sh status || true
	@bash deploy/local/infra.sh status || true

logs: ## Follow the service logs (.state/logs)
	@tail -n 50 -F .state/logs/*.log

token: ## Print a dev JWT: make token USER=<name> (default demo)
	@bash scripts/bootstrap.sh
	@bash scripts/with-env.sh $(PY) -m bcrao_gateway.tokens --user "$(TOKEN_USER)"

plan: ## Change a user's plan: make plan USER=<name> PLAN=trial|starter|growth
	@test -n "$(PLAN)" || { echo "usage: make plan USER=<name> PLAN=trial|starter|growth" >&2; exit 2; }
	@bash scripts/with-env.sh $(PY) -m bcrao_draft_store.cli set-plan "$(TOKEN_USER)" "$(PLAN)"

# `make test` runs the fault suite's smoke subset only (`make faults` runs every fault) and one
# compatibility cell per service (`make compat` runs the whole matrix).
TEST_MARKERS := not soak and (not faults or fault_smoke) and (not compat or compat_smoke)

# The test databases are thrown away: a PostgreSQL started for them may skip fsync (see
# deploy/local/postgres.sh; `make up` starts it crash-safe).
# Most of the suite waits (process start-ups, group joins, a browser, a broker restart), so it
# runs on more pytest-xdist workers than cores: each worker has its own stacks, topic prefixes,
# consumer groups and throwaway databases; the tests sharing an expensive fixture (conftest.py
# SHARED_ON_ONE_WORKER) are one group, run by one worker. The unit tests only compute, so they
# get one worker a core (each worker pays for importing the suite). 0 runs in one process.
# 4 measured best on 2 cores (on one commit: 3 workers 438 s, 4 workers 418 s; on a later one
# 4 workers 380 s, 5 workers 420 s).
TEST_WORKERS ?= 4
UNIT_WORKERS ?= 2
xdist = $(if $(filter 0,$(1)),-p no:xdist,-n $(1) --dist loadgroup)

test: export BCRAO_PG_MODE := fast-unsafe
test: infra-up ## Run the whole test suite (sets up and starts what it needs)
	@$(PY) -m pytest $(call xdist,$(TEST_WORKERS)) -m "$(TEST_MARKERS)" $(PYTEST_ARGS)

test-unit: setup ## Only the tests that need no broker or database
	@$(PY) -m pytest $(call xdist,$(UNIT_WORKERS)) -m "not integration and not e2e" $(PYTEST_ARGS)

# pytest-randomly is off by default (pyproject addopts: -p no:randomly); this turns it on. It
# prints the seed it used; SEED=<n> repeats that order.
test-random: setup ## The tests of test-unit in a random order (SEED=<n> repeats one)
	@$(PY) -m pytest -p randomly $(call xdist,$(UNIT_WORKERS)) $(if $(SEED),--randomly-seed=$(SEED)) \
		-m "not integration and not e2e" $(PYTEST_ARGS)

lint: setup ## ruff check, ruff format --check, mypy
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy --no-incremental libs/contracts/src libs/testkit/src tests/support/src libs/platform/src libs/rules/src services/generator/src services/draft-store/src services/api-gateway/src

eval: setup ## Nine products x archetypes x accounts x seeds, LanguageTool and own checks (report in eval/out)
	@bash scripts/with-env.sh $(PY) -m bcrao_generator.evaluation --out eval/out

BENCH_SOAK_SECONDS ?= 300
bench: setup ## Benchmarks B0-B5 + SSE (bench/), one table, bench/RESULTS.md; BENCH_SOAK_SECONDS=600 for a 10-min soak
	@BENCH_SOAK_SECONDS=$(BENCH_SOAK_SECONDS) $(PY) bench/run.py

fuzz: infra-up ## Property-based API test (schemathesis); SCHEMATHESIS_MAX_EXAMPLES=200 for a longer run
	@$(PY) -m pytest tests/test_api_schemathesis.py $(PYTEST_ARGS)

compose-check: setup ## Check the Dockerfile, docker-compose.yml and deploy/k8s against the settings classes (offline)
	@$(PY) -m pytest tests/test_compose.py tests/test_k8s.py -q

docs: ## Regenerate docs/CONFIGURATION.md, docs/asyncapi/, docs/openapi/, RELEASES.md and the Strimzi KafkaTopics
	@bash scripts/bootstrap.sh
	@$(PY) scripts/gen_config_reference.py
	@$(PY) scripts/gen_strimzi_topics.py
	@$(PY) scripts/gen_asyncapi.py
	@$(PY) scripts/gen_openapi.py
	@$(PY) scripts/release.py render

faults: setup ## Every fault of tests/faults (own Kafka and PostgreSQL), checker table at the end
	@$(PY) -m pytest tests/faults -m faults $(PYTEST_ARGS)

# Each service's last release (RELEASES.toml; a worktree under .state/releases/ with its own
# locked environment) against the current other two, and the reverse; prints the matrix.
compat: infra-up ## The compatibility matrix: each service's last release against the current others, and the reverse
	@$(PY) -m pytest tests/compat -m compat $(PYTEST_ARGS)

soak: setup ## 1,000 generations from 50 users: zero lost, zero doubled, and the throughput
	@$(PY) -m pytest tests/faults/test_soak.py -m soak -s $(PYTEST_ARGS)
