"""The ML tests' features: three weeks of synthetic flights with a learnable signal."""

from __future__ import annotations

import datetime as dt

import pytest
from pyspark.sql import DataFrame, SparkSession

from tests.jobs.builders import synthetic_features


@pytest.fixture(scope="module")
def features(spark: SparkSession) -> DataFrame:
    """Three weeks of synthetic features from 2013-03-01."""
    return synthetic_features(spark, dt.date(2013, 3, 1), 21).cache()
