"""Shared fixtures: one lakehouse root and one Spark session for the whole test process."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

# Settings are read from the environment when first loaded, so this runs before any test
# module builds them: a throwaway root, no Spark UI, few shuffle partitions.
_ROOT = Path(tempfile.mkdtemp(prefix="lakehouse-test-"))
os.environ["LAKEHOUSE_ROOT"] = str(_ROOT)
os.environ["LAKEHOUSE_ENV"] = "local"
os.environ["LAKEHOUSE__SPARK__UI_ENABLED"] = "false"
os.environ["LAKEHOUSE__SPARK__SHUFFLE_PARTITIONS"] = "2"
os.environ["LAKEHOUSE__SPARK__DRIVER_MEMORY"] = "3g"
os.environ.pop("DAGSTER_HOME", None)
# S3 credentials of the test MinIO, in the environment before the JVM starts (S3A reads them
# from there). The secret doubles as a canary: tests assert it is never written anywhere.
os.environ["AWS_ACCESS_KEY_ID"] = "lakehouse-test"
os.environ["AWS_SECRET_ACCESS_KEY"] = f"canary-{secrets.token_hex(12)}"
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"

from devservers import free_port, minio  # noqa: E402
from devservers import postgres as pgserver  # noqa: E402
from jobs.session import build_spark_session  # noqa: E402
from jobs.settings import Settings, load_settings  # noqa: E402


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def spark(settings: Settings) -> Iterator[SparkSession]:
    session = build_spark_session(settings, "pytest")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def lakehouse_root(settings: Settings) -> Path:
    return settings.root


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[pgserver.PgServer, str]]:
    """A real PostgreSQL server on 127.0.0.1 (a throwaway cluster), once per test process."""
    password = secrets.token_urlsafe(16)
    directory = Path(tempfile.mkdtemp(prefix="lakehouse-pg-"))
    server = pgserver.start(directory, free_port(), password)
    yield server, password
    pgserver.stop(directory)


@pytest.fixture(scope="session")
def minio_server() -> Iterator[minio.MinioServer]:
    """A real MinIO server on 127.0.0.1 with the test credentials, once per test process;
    its data lives under the test lakehouse root."""
    directory = _ROOT / "minio"
    server = minio.start(
        directory,
        free_port(),
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    yield server
    minio.stop(directory)
