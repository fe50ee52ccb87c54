# The two commands of the README: `make serve` and `make test`. Each creates .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test test-embedded test-postgres lint format migrations schema assets bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/charter serve

# Lint, then the whole suite on the embedded default, then on PostgreSQL + Redis when
# they answer (CHARTER_TEST_REQUIRE_SERVICES=1, as CI sets, makes their absence a failure).
# The two backends run side by side (each pytest is mostly one core waiting on servers
# it started), each one's output printed whole when it ends.
test: $(STAMP) lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-embedded test-postgres

test-embedded: $(STAMP)
	CHARTER_TEST_BACKEND=embedded $(BIN)/pytest

test-postgres: $(STAMP)
	@if $(BIN)/python -m tests.backends; then \
		echo "== PostgreSQL + Redis pass"; CHARTER_TEST_BACKEND=postgres $(BIN)/pytest; \
	elif [ "$$CHARTER_TEST_REQUIRE_SERVICES" = "1" ]; then \
		echo "PostgreSQL + Redis are required here (CHARTER_TEST_REQUIRE_SERVICES=1)"; exit 1; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations: $(STAMP)
	$(BIN)/charter makemigrations

schema: $(STAMP)
	$(BIN)/charter schema > schema.graphql

# The consent banner's files: built at start-up; this prints their sizes, gzipped.
assets: $(STAMP)
	$(BIN)/charter assets

# Issue 17's table in one run (needs PostgreSQL, Redis and wrk; node adds Yoga and Apollo).
bench: $(STAMP)
	@if command -v npm >/dev/null; then cd bench/js && npm ci --no-audit --no-fund; fi
	$(BIN)/python -m bench.edge

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
