"""Gold: analysis-ready tables built from silver flights. Pure transforms."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

ON_TIME_MINUTES = 15  # the DOT definition: arriving less than 15 minutes late
# What flight_features carries from silver as it is: the plane and the origin's weather at
# the scheduled hour (numeric inputs of the delay model, jobs.ml.features).
CARRIED_FEATURES = (
    "plane_seats",
    "plane_engines",
    "temp_f",
    "dewpoint_f",
    "humidity_pct",
    "wind_speed_mph",
    "wind_gust_mph",
    "precip_in",
    "pressure_mb",
    "visibility_mi",
)


def _volume() -> list[Column]:
    """Flights, and how many of them were cancelled, of a group."""
    return [
        F.count(F.lit(1)).cast("int").alias("flights"),
        F.sum(F.col("cancelled").cast("int")).cast("int").alias("cancelled"),
    ]


def _on_time_share() -> Column:
    """Of a group's flights that arrived, the share less than 15 minutes late."""
    arrived = F.col("arr_delay_min").isNotNull()
    on_time = (F.col("arr_delay_min") < ON_TIME_MINUTES).cast("int")
    return (F.sum(F.when(arrived, on_time)) / F.sum(arrived.cast("int"))).alias("on_time_share")


def summarize_route_days(flights: DataFrame) -> DataFrame:
    """One row per (date, origin, dest, carrier): volume, cancellations and delay profile.

    Delay statistics are over flights that departed; on-time share is over flights that
    arrived (arrival delay under 15 minutes).
    """
    delay = F.col("dep_delay_min")
    return flights.groupBy("flight_date", "origin", "dest", "carrier").agg(
        *_volume(),
        F.avg(delay).alias("mean_dep_delay_min"),
        F.median(delay).alias("median_dep_delay_min"),
        F.percentile(delay, 0.9).alias("p90_dep_delay_min"),
        _on_time_share(),
    )


def summarize_carrier_days(flights: DataFrame) -> DataFrame:
    """One row per (date, carrier): volume, cancellations, mean departure delay (over
    flights that departed) and on-time share (over flights that arrived)."""
    return flights.groupBy("flight_date", "carrier").agg(
        *_volume(), F.avg("dep_delay_min").alias("mean_dep_delay_min"), _on_time_share()
    )


def build_flight_features(flights: DataFrame) -> DataFrame:
    """One row per flight with the inputs a departure-delay model needs and its label.

    Features are known before departure (schedule, route, plane, weather at the scheduled
    hour); the label ``dep_delay_min`` is null for cancelled flights.
    """
    local_dep = F.from_utc_timestamp("sched_dep_utc", "America/New_York")
    return flights.select(
        "flight_date",
        "carrier",
        "flight",
        "origin",
        "dest",
        "sched_dep_utc",
        F.month("flight_date").alias("month"),
        F.dayofweek("flight_date").alias("day_of_week"),
        F.hour(local_dep).alias("sched_dep_hour_local"),
        ((F.unix_timestamp("sched_arr_utc") - F.unix_timestamp("sched_dep_utc")) / 60)
        .cast("int")
        .alias("sched_block_min"),
        "distance_mi",
        (F.year("flight_date") - F.col("plane_year_built")).alias("plane_age_years"),
        *CARRIED_FEATURES,
        "cancelled",
        "dep_delay_min",
        (F.col("dep_delay_min") >= ON_TIME_MINUTES).alias("is_delayed_15"),
    )
