# flights-lakehouse: two commands do all set-up on a fresh machine.
#   make demo  - set up, land 2013, run the whole pipeline on the local profile, show tables
#   make test  - set up, lint, type-check and run the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
export LAKEHOUSE_ENV ?= local

.PHONY: setup tools jars demo test lint typecheck pytest ui status postgres postgres-stop clean-data

setup: tools $(VENV)/.synced jars

# From Debian when missing: a JDK (Spark's JVM), Maven (jar resolution) and the PostgreSQL
# server (the dev warehouse, and the warehouse tests' real server). uv from PyPI.
tools:
	@missing=""; \
	command -v java >/dev/null || missing="$$missing default-jdk-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@test -x "$(UV)" || python3 -m pip install --quiet --user "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock
	$(UV) sync --frozen --python 3.11
	@touch $@

# JVM jars pinned in conf/pom.xml, resolved once from Maven Central into .jars/.
jars: .jars/.resolved
.jars/.resolved: conf/pom.xml
	mvn -q -B -f conf/pom.xml package
	@rm -rf conf/target
	@touch $@

demo: setup
	$(BIN)/lakehouse land
	$(BIN)/lakehouse run
	$(BIN)/lakehouse status
	@echo
	@echo "Open the Dagster UI on these runs:  $(BIN)/lakehouse ui   (then http://127.0.0.1:3000)"

lint: setup
	$(BIN)/ruff check jobs assets expectations warehouse tests benchmarks
	$(BIN)/ruff format --check jobs assets expectations warehouse tests benchmarks

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: lint typecheck pytest

ui: setup
	$(BIN)/lakehouse ui

status: setup
	$(BIN)/lakehouse status

# The dev profile's warehouse: a throwaway PostgreSQL on 127.0.0.1:55432, data under .lakehouse/.
# Needs LAKEHOUSE_WAREHOUSE_PASSWORD in the environment (the dev profile reads it too).
postgres: setup
	$(BIN)/python -m warehouse.pgserver start --dir .lakehouse/postgres --port 55432

postgres-stop:
	$(BIN)/python -m warehouse.pgserver stop --dir .lakehouse/postgres

clean-data:
	rm -rf .lakehouse
