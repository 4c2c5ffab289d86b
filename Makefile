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

.PHONY: setup tools jars demo test lint typecheck pytest ui status clean-data

setup: tools $(VENV)/.synced jars

# Java (Spark's JVM) and Maven (jar resolution) from Debian when missing; uv from PyPI.
tools:
	@command -v java >/dev/null && command -v mvn >/dev/null || { \
	  echo "installing a JDK and Maven from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless maven >/dev/null; }
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
	$(BIN)/ruff check jobs assets expectations tests
	$(BIN)/ruff format --check jobs assets expectations tests

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: lint typecheck pytest

ui: setup
	$(BIN)/lakehouse ui

status: setup
	$(BIN)/lakehouse status

clean-data:
	rm -rf .lakehouse
