# syntax=docker/dockerfile:1.7
# flights-lakehouse images, built from the same pins as the checkout: Python packages from
# uv.lock (uv sync --frozen), JVM jars from conf/pom.xml (Maven). Two targets:
#
#   docker build -t flights-lakehouse .                      # Dagster code location (default)
#   docker build --target emr --build-arg EMR_RELEASE=emr-7.5.0 -t flights-lakehouse-emr .
#
# The default image serves the Dagster definitions (dagster code-server on port 4000) with a
# JRE for in-process Spark and DAGSTER_HOME on the prod instance file; the `emr` image is an
# EMR Serverless custom image (Spark 3.5 of the chosen EMR 7.x release) with the jobs'
# Python packages installed for python3.11, so jobs run without a packed venv.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG EMR_RELEASE=emr-7.5.0
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# ---- JVM jars pinned in conf/pom.xml, resolved once from Maven Central
FROM maven:3.9-eclipse-temurin-17 AS jars
WORKDIR /build
COPY conf/pom.xml conf/pom.xml
RUN mvn -q -B -f conf/pom.xml package && ls .jars

# ---- the locked Python environment (no dev tools), then the project itself
FROM ${PYTHON_IMAGE} AS python-deps
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY jobs jobs
COPY assets assets
COPY expectations expectations
COPY warehouse warehouse
COPY devservers devservers
RUN uv sync --frozen --no-dev

# ---- Dagster code location (default target)
FROM ${PYTHON_IMAGE} AS code-location
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 lakehouse
WORKDIR /app
COPY --from=python-deps /app /app
COPY --from=jars /build/.jars /app/.jars
COPY conf conf
COPY spark-submit spark-submit
ENV PATH=/app/.venv/bin:$PATH \
    LAKEHOUSE_ENV=prod \
    LAKEHOUSE_ROOT=/tmp/lakehouse \
    DAGSTER_HOME=/app/conf/dagster/prod \
    DAGSTER_EVENT_BATCH_SIZE=1000 \
    DAGSTER_AUTOMATION_TICK_SETTLE_SECONDS=1 \
    PYSPARK_PYTHON=/app/.venv/bin/python
USER lakehouse
EXPOSE 4000
CMD ["dagster", "code-server", "start", "--host", "0.0.0.0", "--port", "4000", \
     "--module-name", "assets.definitions"]

# ---- EMR Serverless custom image: EMR's Spark 3.5, the jobs' packages for python3.11
FROM ${UV_IMAGE} AS uv-for-emr
FROM public.ecr.aws/emr-serverless/spark/${EMR_RELEASE}:latest AS emr
USER root
RUN dnf install -y -q python3.11 python3.11-pip && dnf clean all
COPY --from=uv-for-emr /uv /usr/local/bin/uv
COPY pyproject.toml uv.lock /tmp/lakehouse/
# Spark and py4j come from the image; everything else at the versions uv.lock pins.
RUN cd /tmp/lakehouse \
 && uv export --frozen --only-group spark-job --no-hashes --no-emit-project --no-header \
      | grep -v -E '^(pyspark|py4j)==' > requirements.txt \
 && uv pip install --system --python /usr/bin/python3.11 --no-deps -r requirements.txt \
 && rm -rf /tmp/lakehouse
COPY --from=jars /build/.jars/delta-spark_2.12-3.3.3.jar /build/.jars/delta-storage-3.3.3.jar /usr/lib/lakehouse/jars/
ENV PYSPARK_PYTHON=/usr/bin/python3.11
USER hadoop:hadoop

FROM code-location
