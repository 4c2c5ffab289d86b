"""Dimensions: typed planes, airports and airlines from their landing snapshots. Pure transforms."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.transforms.silver import to_double, to_int


def type_planes(raw: DataFrame) -> DataFrame:
    """One row per tail number with its build year, make and capacity."""
    return raw.select(
        F.trim("tailnum").alias("tailnum"),
        to_int(F.col("year")).alias("year_built"),
        "type",
        "manufacturer",
        "model",
        to_int(F.col("engines")).alias("engines"),
        to_int(F.col("seats")).alias("seats"),
        to_int(F.col("speed")).alias("speed_mph"),
        "engine",
    ).dropDuplicates(["tailnum"])


def type_airports(raw: DataFrame) -> DataFrame:
    """One row per FAA code with its position and IANA time zone."""
    return raw.select(
        F.trim("faa").alias("faa"),
        "name",
        to_double(F.col("lat")).alias("lat"),
        to_double(F.col("lon")).alias("lon"),
        to_int(F.col("alt")).alias("alt_ft"),
        to_double(F.col("tz")).alias("utc_offset_h"),
        "dst",
        "tzone",
    ).dropDuplicates(["faa"])


def type_airlines(raw: DataFrame) -> DataFrame:
    """One row per carrier code with its name."""
    return raw.select(
        F.trim("carrier").alias("carrier"), F.trim("name").alias("name")
    ).dropDuplicates(["carrier"])
