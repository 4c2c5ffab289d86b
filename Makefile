# flights-lakehouse: two commands do all set-up on a fresh machine.
#   make demo  - set up, land 2013, run the whole pipeline on the local profile, show tables
#   make test  - set up, lint, type-check and run the whole test suite
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
# MinIO (the dev profile's S3), built from the Go module proxy; the pseudo-version is the
# release the proxy serves as @latest (RELEASE.2026-02-12).
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
MINIO := .tools/bin/minio
PY_SOURCES := jobs assets expectations warehouse devservers spark-submit tests benchmarks
export LAKEHOUSE_ENV ?= local

.PHONY: setup tools jars demo test lint typecheck pytest ui status postgres postgres-stop minio minio-bin minio-stop clean-data

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
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)

typecheck: setup
	$(BIN)/mypy

pytest: setup $(MINIO)
	$(BIN)/pytest

test: lint typecheck pytest

ui: setup
	$(BIN)/lakehouse ui

status: setup
	$(BIN)/lakehouse status

# The dev profile's warehouse: a throwaway PostgreSQL on 127.0.0.1:55432, data under .lakehouse/.
# Needs LAKEHOUSE_WAREHOUSE_PASSWORD in the environment (the dev profile reads it too).
postgres: setup
	$(BIN)/python -m devservers.postgres start --dir .lakehouse/postgres --port 55432

postgres-stop:
	$(BIN)/python -m devservers.postgres stop --dir .lakehouse/postgres

# The dev profile's S3: MinIO on 127.0.0.1:9000, data under .lakehouse/minio. Its root
# credentials are AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which the dev profile reads too.
minio-bin: $(MINIO)
$(MINIO):
	@command -v go >/dev/null || { echo "Go is needed to build MinIO (go install)"; exit 1; }
	GOBIN=$(CURDIR)/.tools/bin GOFLAGS=-mod=mod go install github.com/minio/minio@$(MINIO_VERSION)

minio: setup $(MINIO)
	$(BIN)/python -m devservers.minio start --dir .lakehouse/minio --port 9000

minio-stop:
	$(BIN)/python -m devservers.minio stop --dir .lakehouse/minio

clean-data:
	rm -rf .lakehouse
