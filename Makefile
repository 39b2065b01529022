# Nuanxin: `make run` starts the whole suite; `make test` runs every test. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AMQP_URI ?= pyamqp://guest:guest@127.0.0.1:5672/
export AMQP_URI

.PHONY: run test unit lint broker compose-tool venv bench clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --quiet --upgrade pip
	@$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
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

run: broker
	@$(BIN)/nuanxin run

# docker-compose.yml is validated by Debian's docker-compose (no Docker engine is needed for that).
compose-tool:
	@command -v docker-compose >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing docker-compose (Debian) to validate docker-compose.yml…"; \
			apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; \
		else echo "docker-compose is not installed: the compose test will be skipped (CI fails it)"; fi; }

test: broker compose-tool
	@$(BIN)/ruff check shared services tests bench
	@$(BIN)/pytest -q

# Tests that need nothing running: the pure domain and the shared layer's own rules.
UNIT_TESTS := $(wildcard tests/*/unit) tests/shared/test_errors.py tests/shared/test_inbox.py tests/shared/test_logs.py
unit: $(STAMP)
	@$(BIN)/pytest -q $(UNIT_TESTS)

lint: $(STAMP)
	@$(BIN)/ruff check shared services tests bench

# Every benchmark, one after the other; each prints its own figures.
BENCHES := rpc_overhead bookings_availability bookings_http notifications_latency notifications_broadcast
bench: broker
	@for b in $(BENCHES); do echo "== bench.$$b"; $(BIN)/python -m bench.$$b || exit 1; done

clean:
	rm -rf $(VENV) var
