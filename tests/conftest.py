"""Shared fixtures: one lakehouse root and one Spark session for the whole test process."""

from __future__ import annotations

import os
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
