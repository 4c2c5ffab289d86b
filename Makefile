# flights-lakehouse: two commands do all set-up on a fresh machine.
#   make demo  - set up, land 2013, run the whole pipeline on the local profile, show tables
#   make check - set up, lint, type-check and run every test (what .ci/run runs): the main
#                suite (`make test`) and the reliability suite (`make test-reliability`)
#
# Nothing here relies on what happens to be on PATH beyond the system folders: uv, MinIO
# and (when the machine has no Go) a Go toolchain are installed into .tools/ (git-ignored),
# and every program of the project finds them there (devservers/tools.py).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
TOOLS := $(CURDIR)/.tools
UV_VERSION := 0.13.9
UV := $(TOOLS)/uv-$(UV_VERSION)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
# MinIO (the dev profile's S3), built from the Go module proxy; the pseudo-version is the
# release the proxy serves as @latest (RELEASE.2026-02-12).
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
MINIO := $(TOOLS)/bin/minio
# Go builds MinIO: the machine's own (PATH or /usr/local/go) when it is 1.$(GO_MIN_MINOR)+, otherwise this
# toolchain, fetched as a Go module by Debian's older Go (see the go-toolchain target).
GO_TOOLCHAIN := 1.24.8
GO_MIN_MINOR := 24
GO := $(firstword $(shell for go in $$(command -v go) /usr/local/go/bin/go; do \
	v=$$(GOTOOLCHAIN=local $$go env GOVERSION 2>/dev/null) || continue; \
	[ "$$(echo $$v | cut -d. -f2)" -ge $(GO_MIN_MINOR) ] 2>/dev/null && echo $$go; done) \
	$(TOOLS)/go/bin/go)
PY_SOURCES := jobs assets expectations warehouse devservers spark-submit tests benchmarks
# Everything local lives under LAKEHOUSE_ROOT (default .lakehouse in the checkout); the dev
# servers keep their data there too. Relative roots are taken from the checkout.
export LAKEHOUSE_ENV ?= local
# uv uses a Python 3.11 of the machine's; it never downloads one.
export UV_PYTHON_DOWNLOADS := never
CLASS_ARCHIVE := .jars/spark-classes.jsa
LOCAL_FS_JAR := .jars/lakehouse-local-fs.jar
ROOT := $(abspath $(or $(LAKEHOUSE_ROOT),$(CURDIR)/.lakehouse))

.PHONY: setup tools jars demo bench check test test-reliability lint typecheck pytest ui status postgres postgres-stop \
	postgres-reset minio minio-bin minio-stop mlflow mlflow-stop clean-data

setup: tools $(VENV)/.synced jars $(LOCAL_FS_JAR) $(CLASS_ARCHIVE)

# From Debian when missing: a JDK (Spark's JVM; javac for jobs/io/local_fs.py), Maven (jar
# resolution), the PostgreSQL server (the dev warehouse, and the warehouse tests' real
# server) and python3-venv (uv's own environment). uv from PyPI into .tools/, never the
# user's site or PATH.
tools: $(UV)
	@missing=""; \
	command -v javac >/dev/null || missing="$$missing default-jdk-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(UV):
	@python3 -c 'import ensurepip' 2>/dev/null || { \
	  echo "installing from Debian: python3-venv"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
	rm -rf $(TOOLS)/uv-$(UV_VERSION)
	python3 -m venv $(TOOLS)/uv-$(UV_VERSION)
	$(TOOLS)/uv-$(UV_VERSION)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	mkdir -p $(TOOLS)/bin && ln -sfn ../uv-$(UV_VERSION)/bin/uv $(TOOLS)/bin/uv

# Bytecode compiled once here (as in the Dockerfile): where PYTHONDONTWRITEBYTECODE is set
# (this kind of machine, many CI images) Python otherwise compiles Dagster, Great
# Expectations, pandas, ... from source in every process, about 5 CPU seconds per command.
$(VENV)/.synced: pyproject.toml uv.lock $(UV)
	$(UV) sync --frozen --python 3.11 --compile-bytecode
	@touch $@

# JVM jars pinned in conf/pom.xml, resolved once from Maven Central into .jars/.
jars: .jars/.resolved
# After `tools` (Maven), also when make runs targets side by side (`make check`).
.jars/.resolved: conf/pom.xml | tools
	mvn -q -B -f conf/pom.xml package
	@rm -rf conf/target
	@touch $@

# Hadoop's local file system without a forked chmod per file (jobs/io/local_fs.py), compiled
# against the Hadoop API jar pyspark ships.
$(LOCAL_FS_JAR): jobs/io/jvm/NioLocalFileSystem.java .jars/.resolved uv.lock | $(VENV)/.synced
	$(BIN)/python -m jobs.io.local_fs

# The driver JVM's class archive (jobs/io/class_archive.py): local JVMs map it instead of
# loading Spark's and Delta's classes from the jars again. Remade when the jars (the local
# file system's is on the driver's class path) or the locked packages (pyspark ships Spark's
# jars) change.
$(CLASS_ARCHIVE): .jars/.resolved $(LOCAL_FS_JAR) uv.lock | $(VENV)/.synced
	$(BIN)/python -m jobs.io.class_archive

demo: setup
	$(BIN)/lakehouse land $(DEMO_RANGE)
	$(BIN)/lakehouse run $(DEMO_RANGE)
	$(BIN)/lakehouse train
	$(BIN)/lakehouse score
	$(BIN)/lakehouse status
	$(BIN)/lakehouse model
	@echo
	@echo "Open the Dagster UI on these runs:  $(BIN)/lakehouse ui        (http://127.0.0.1:3000)"
	@echo "and MLflow on the model's runs:      $(BIN)/lakehouse mlflow-ui (http://127.0.0.1:5000)"
# The whole of 2013 unless DEMO_START/DEMO_END narrow it (the README test runs two weeks,
# and moves the model's cutoff into them with LAKEHOUSE__ML__TRAINING_CUTOFF).
DEMO_RANGE = $(if $(DEMO_START),--start $(DEMO_START)) $(if $(DEMO_END),--end $(DEMO_END))

# The performance figures beside their targets (README: Performance): 30-40 minutes on
# two cores. BENCH_QUICK=1: one day for every part (checks the bench, not the targets);
# BENCH_TESTS=1: also time `make test`.
bench: setup
	$(BIN)/python benchmarks/bench.py $(if $(BENCH_QUICK),--quick) $(if $(BENCH_TESTS),--with-tests)

# ruff and mypy need the venv only, not the jars or the class archive.
lint: $(VENV)/.synced
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)

typecheck: $(VENV)/.synced
	$(BIN)/mypy

# Two worker processes (pytest-xdist), each taking whole test modules, so module fixtures
# and the one Spark session per process stay as they are; TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2
# After TEST_DEADLINE the suite is stopped as Ctrl-C stops it (coreutils timeout), so it
# still prints what failed and its summary: a hang ends with a report, not with CI's own
# limit cutting the log (each test also has its time limit: timeout in pyproject.toml).
TEST_DEADLINE ?= 75m
# TEST_MARKS: a pytest -m expression choosing the tests (empty: all of them).
TEST_MARKS ?=
pytest: setup $(MINIO)
	timeout --signal=INT --kill-after=120 $(TEST_DEADLINE) \
	  $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
	  $(if $(TEST_MARKS),-m '$(TEST_MARKS)') \
	  || { code=$$?; [ $$code -ne 124 ] || echo "make: pytest stopped at TEST_DEADLINE=$(TEST_DEADLINE)"; exit $$code; }

# ruff first (a second: a lint error fails at once), then mypy (about 30 s on one core)
# beside the rest of the set-up and pytest, which it would otherwise hold up; make still
# fails when either fails (after pytest ends).
# check: every test, in one pytest run (the two suites share its reference lakehouse and
# its workers), as .ci/run runs it. test: the main suite, without the reliability tests;
# test-reliability: those alone (crashes, concurrent runs, a full disk, the prod instance,
# secrets and binds on the dev servers, a standalone cluster; the `reliability` marker).
check: lint
	$(MAKE) --no-print-directory -j2 typecheck pytest

test: lint
	$(MAKE) --no-print-directory -j2 typecheck pytest TEST_MARKS='not reliability'

test-reliability:
	$(MAKE) --no-print-directory pytest TEST_MARKS='reliability'

ui: setup
	$(BIN)/lakehouse ui

status: setup
	$(BIN)/lakehouse status

# The dev servers listen where the dev settings send clients (conf/dev.toml: 9000, 55432,
# 5000; LAKEHOUSE__S3__ENDPOINT, LAKEHOUSE__WAREHOUSE__PORT, LAKEHOUSE__ML__TRACKING_URI move
# servers and clients together).
#
# The dev profile's warehouse: a throwaway PostgreSQL on 127.0.0.1:55432, data under
# $LAKEHOUSE_ROOT/postgres. Needs LAKEHOUSE_WAREHOUSE_PASSWORD (the dev profile reads it too).
postgres: setup
	$(BIN)/python -m devservers.postgres start --dir $(ROOT)/postgres

postgres-stop: setup
	$(BIN)/python -m devservers.postgres stop --dir $(ROOT)/postgres

# Stops the server and deletes its data (and the password it was created with).
postgres-reset: setup
	$(BIN)/python -m devservers.postgres reset --dir $(ROOT)/postgres

# The dev profile's MLflow: a tracking server on 127.0.0.1:5000 whose store is a database
# `mlflow` on the dev PostgreSQL and whose artifacts go to MinIO (start both first).
mlflow: setup
	$(BIN)/python -m devservers.mlflow start --dir $(ROOT)/mlflow-server

mlflow-stop: setup
	$(BIN)/python -m devservers.mlflow stop --dir $(ROOT)/mlflow-server

# The dev profile's S3: MinIO on 127.0.0.1:9000, data under $LAKEHOUSE_ROOT/minio. Its root
# credentials are AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which the dev profile reads too.
minio-bin: $(MINIO)
$(MINIO): $(GO)
	GOBIN=$(TOOLS)/bin GOFLAGS=-mod=mod GOTOOLCHAIN=local $(GO) install github.com/minio/minio@$(MINIO_VERSION)

minio: setup $(MINIO)
	$(BIN)/python -m devservers.minio start --dir $(ROOT)/minio

minio-stop: setup
	$(BIN)/python -m devservers.minio stop --dir $(ROOT)/minio

# Only when the machine has no Go of its own: Debian's Go (too old for MinIO) downloads the
# pinned toolchain from the Go module proxy, where Go itself gets toolchains from; module
# zips keep no executable bits, so they are set here as Go's own toolchain switch does.
$(TOOLS)/go/bin/go: | tools  # one apt-get at a time
	@test -x /usr/lib/go/bin/go || { echo "installing from Debian: golang-go"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null; }
	rm -rf $(TOOLS)/go $(TOOLS)/gomod
	cd /tmp && GOMODCACHE=$(TOOLS)/gomod GOFLAGS=-modcacherw GO111MODULE=on \
	  /usr/lib/go/bin/go mod download golang.org/toolchain@v0.0.1-go$(GO_TOOLCHAIN).linux-amd64
	cp -r $(TOOLS)/gomod/golang.org/toolchain@v0.0.1-go$(GO_TOOLCHAIN).linux-amd64 $(TOOLS)/go
	chmod -R u+w $(TOOLS)/gomod && rm -rf $(TOOLS)/gomod
	chmod +x $(TOOLS)/go/bin/* $(TOOLS)/go/pkg/tool/*/*
	$@ version

clean-data:
	rm -rf $(ROOT)
