"""Small hand-made inputs shaped like the real tables."""

from __future__ import annotations

import datetime as dt
import random
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


FEATURES_SCHEMA = (
    "flight_date DATE, carrier STRING, flight INT, origin STRING, dest STRING, "
    "sched_dep_utc TIMESTAMP, month INT, day_of_week INT, sched_dep_hour_local INT, "
    "sched_block_min INT, distance_mi DOUBLE, plane_age_years INT, plane_seats INT, "
    "plane_engines INT, temp_f DOUBLE, dewpoint_f DOUBLE, humidity_pct DOUBLE, "
    "wind_speed_mph DOUBLE, wind_gust_mph DOUBLE, precip_in DOUBLE, pressure_mb DOUBLE, "
    "visibility_mi DOUBLE, cancelled BOOLEAN, dep_delay_min INT, is_delayed_15 BOOLEAN"
)


def synthetic_features(
    spark: SparkSession, start: dt.date, days: int, per_day: int = 120, seed: int = 7
) -> DataFrame:
    """``per_day`` flights a day from ``start``; late when departing after 17:00 in rain
    (mostly), plus noise; one in fifty cancelled (no label)."""
    rng = random.Random(seed)
    rows = []
    for d in range(days):
        day = start + dt.timedelta(days=d)
        for i in range(per_day):
            hour = rng.randint(6, 22)
            rain = rng.random() < 0.3
            late = (hour >= 17 and rain and rng.random() < 0.85) or rng.random() < 0.08
            cancelled = rng.random() < 0.02
            delay = None if cancelled else (45 if late else -2)
            rows.append((
                day, rng.choice(["UA", "AA", "B6"]), i, rng.choice(["EWR", "JFK", "LGA"]),
                rng.choice(["ORD", "LAX", "ATL", "BOS"]),
                dt.datetime.combine(day, dt.time(hour % 24)), day.month, day.isoweekday() % 7 + 1,
                hour, 120, 700.0, rng.choice([3, 10, None]), 150, 2, 50.0, 40.0, 70.0,
                rng.uniform(0, 20), None, 0.2 if rain else 0.0, 1012.0, 10.0,
                cancelled, delay, None if delay is None else delay >= 15,
            ))  # fmt: skip
    return spark.createDataFrame(rows, FEATURES_SCHEMA)
