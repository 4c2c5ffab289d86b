"""Gold assets: route-day statistics and per-flight model features."""

from dagster import AssetIn, AssetKey, asset
from pyspark.sql import DataFrame

from assets.partitions import DAILY_2013, SINGLE_RUN
from assets.resources import PARTITION_COLUMN
from jobs import pipeline

SILVER_FLIGHTS = {"flights": AssetIn(AssetKey(["silver", "flights"]))}


@asset(
    key=AssetKey(["gold", "route_daily"]),
    ins=SILVER_FLIGHTS,
    partitions_def=DAILY_2013,
    backfill_policy=SINGLE_RUN,
    group_name="gold",
    kinds={"spark", "delta"},
    metadata={PARTITION_COLUMN: "flight_date"},
    description=(
        "One row per (date, origin, dest, carrier): flights, cancellations, mean/median/p90 "
        "departure delay and on-time arrival share."
    ),
)
def route_daily(flights: DataFrame) -> DataFrame:
    return pipeline.route_daily(flights)


@asset(
    key=AssetKey(["gold", "flight_features"]),
    ins=SILVER_FLIGHTS,
    partitions_def=DAILY_2013,
    backfill_policy=SINGLE_RUN,
    group_name="gold",
    kinds={"spark", "delta"},
    metadata={PARTITION_COLUMN: "flight_date"},
    description=(
        "One row per flight: schedule, route, plane and weather known before departure, "
        "with the departure delay as label."
    ),
)
def flight_features(flights: DataFrame) -> DataFrame:
    return pipeline.flight_features(flights)
