"""Small hand-made inputs shaped like the real tables."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.transforms.bronze import CORRUPT_COLUMN, FLIGHTS_COLUMNS

AIRPORT_ZONES = [
    ("EWR", "America/New_York"),
    ("JFK", "America/New_York"),
    ("LGA", "America/New_York"),
    ("LAX", "America/Los_Angeles"),
    ("ORD", "America/Chicago"),
]


AIRLINES = [("UA", "United Air Lines Inc."), ("AA", "American Airlines Inc."), ("B6", "JetBlue")]


def airports(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(AIRPORT_ZONES, "faa STRING, tzone STRING")


def airlines(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(AIRLINES, "carrier STRING, name STRING")


def flight(on: str = "2013-01-01", **fields: Any) -> dict[str, Any]:
    """One bronze flight row (all strings) on ``on``; keyword arguments override fields."""
    date = dt.date.fromisoformat(on)
    row = {
        "year": str(date.year), "month": str(date.month), "day": str(date.day),
        "dep_time": "517", "sched_dep_time": "515", "dep_delay": "2", "arr_time": "830",
        "sched_arr_time": "819", "arr_delay": "11", "carrier": "UA", "flight": "1545",
        "tailnum": "N14228", "origin": "EWR", "dest": "ORD", "air_time": "227",
        "distance": "1400", "hour": "5", "minute": "15", "time_hour": f"{on}T10:00:00Z",
        CORRUPT_COLUMN: None, "_source_file": f"file:/landing/flights/{on}.csv.gz",
        "_row_number": 2, "flight_date": date,
    }  # fmt: skip
    row.update(fields)
    return row


def bronze_flights(spark: SparkSession, rows: list[dict[str, Any]]) -> DataFrame:
    schema = (
        ", ".join(f"{c} STRING" for c in (*FLIGHTS_COLUMNS, CORRUPT_COLUMN))
        + ", _source_file STRING, _row_number INT, flight_date DATE"
    )
    ordered = [tuple(r[c.split()[0]] for c in schema.split(", ")) for r in rows]
    return spark.createDataFrame(ordered, schema).withColumn(
        "_ingested_at", F.lit(dt.datetime(2026, 1, 1)).cast("timestamp")
    )
