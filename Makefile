# Satu: `make run` to try it, `make test` to check it.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# uv from PATH, else a private copy from PyPI (Debian's Python refuses a global pip install).
UV ?= $(or $(shell command -v uv 2>/dev/null),var/tools/bin/uv)
PG_TEST_URL ?= $(or $(TEST_DATABASE_URL),postgres://postgres@127.0.0.1:5432/satu)
# What the product needs at run time (WeasyPrint renders PDFs with Pango) ...
RUN_APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
	libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core
# ... and what the tests need beside it.
APT_PACKAGES := $(RUN_APT_PACKAGES) chromium postgresql-client gettext

.PHONY: run test test-sqlite test-postgres install system-deps run-deps apt-install lint bench messages clean

var/tools/bin/uv:
	$(PYTHON) -m venv var/tools
	var/tools/bin/pip install --quiet uv

$(BIN)/satu: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(BIN)/satu

# Debian packages the product or its tests need, installed only where missing.
system-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

run-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(RUN_APT_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install:$$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Migrate, load the demo company on the first run, then serve with a worker.
run: install run-deps
	$(BIN)/satu migrate --verbosity 0
	@$(BIN)/satu demo --if-empty
	$(BIN)/satu run --host $(HOST) --port $(PORT)

test: install system-deps lint test-sqlite test-postgres

test-sqlite: install
	@echo "== tests on SQLite =="
	env -u DATABASE_URL $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

# Runs when TEST_DATABASE_URL is set or a PostgreSQL server answers on 127.0.0.1:5432.
test-postgres: install
	@if [ -n "$(TEST_DATABASE_URL)" ] || pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "== tests on PostgreSQL =="; \
	  DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS); \
	else echo "== PostgreSQL not reachable: skipped (CI requires it) =="; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# W2 (stock posting) on a fresh SQLite file and a fresh PostgreSQL database
# `satu_bench` (created and dropped here; skipped when no server answers).
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
# The benchmark workloads (../shared/bench/workload.md), each on a fresh
# SQLite file and a fresh PostgreSQL database: `make bench BENCH=W2` for one.
BENCH ?= W1 W2
bench: install
	@for w in $(BENCH); do \
	  echo "== $$w on SQLite =="; \
	  rm -f var/bench.sqlite3 var/bench.sqlite3-wal var/bench.sqlite3-shm; \
	  DATABASE_URL=sqlite:///$(CURDIR)/var/bench.sqlite3 $(BIN)/satu bench $$w || exit 1; \
	  rm -f var/bench.sqlite3 var/bench.sqlite3-wal var/bench.sqlite3-shm; \
	  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	    echo "== $$w on PostgreSQL =="; \
	    dropdb --if-exists -h 127.0.0.1 -U postgres satu_bench && \
	    createdb -h 127.0.0.1 -U postgres satu_bench && \
	    DATABASE_URL=$(BENCH_PG)/satu_bench $(BIN)/satu bench $$w; rc=$$?; \
	    dropdb --if-exists -h 127.0.0.1 -U postgres satu_bench; \
	    [ $$rc -eq 0 ] || exit $$rc; \
	  else echo "== PostgreSQL not reachable: $$w on PostgreSQL skipped =="; fi; \
	done

# Refresh the Indonesian catalogue after changing UI strings, then translate
# the new entries in locale/id/LC_MESSAGES/django.po and run it again.
messages: install
	$(BIN)/python manage.py makemessages -l id --ignore='.venv/*' --ignore='tests/*' \
	  --ignore='*/tests/*' --ignore='var/*' --ignore='node_modules/*'
	$(BIN)/python manage.py compilemessages -l id --ignore='.venv/*' 

clean:
	rm -rf $(VENV) var/static var/tools
