"""Gold assets: route-day statistics and per-flight model features."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetIn, AssetKey, Output, asset
from pyspark.sql import DataFrame

from assets.gates import publish, suite_check_specs
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import PARTITION_COLUMN, LakehouseConfig
from jobs import builds

ROUTE_DAILY = AssetKey(["gold", "route_daily"])
# What every gold table shares: it reads silver flights for its range, day-partitioned.
DAILY_FROM_SILVER: dict[str, Any] = {
    "ins": {"flights": AssetIn(AssetKey(["silver", "flights"]))},
    "partitions_def": DAILY_2013,
    "backfill_policy": SINGLE_RUN,
    "group_name": "gold",
    "kinds": {"spark", "delta"},
    "metadata": {PARTITION_COLUMN: "flight_date"},
}


@asset(
    key=ROUTE_DAILY,
    check_specs=suite_check_specs(ROUTE_DAILY, "route_daily"),
    **DAILY_FROM_SILVER,
    description=(
        "One row per (date, origin, dest, carrier): flights, cancellations, mean/median/p90 "
        "departure delay and on-time arrival share."
    ),
)
def route_daily(
    context: AssetExecutionContext, lakehouse: LakehouseConfig, flights: DataFrame
) -> Iterator[Output[DataFrame] | AssetCheckResult]:
    start, end = partition_dates(context)
    yield from publish(
        builds.route_daily(lakehouse.settings(), flights, start, end, context.run_id)
    )


@asset(
    key=AssetKey(["gold", "flight_features"]),
    **DAILY_FROM_SILVER,
    description=(
        "One row per flight: schedule, route, plane and weather known before departure, "
        "with the departure delay as label."
    ),
)
def flight_features(flights: DataFrame) -> DataFrame:
    return builds.flight_features(flights).outputs["gold/flight_features"]
