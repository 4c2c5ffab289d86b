"""Gold assets: route-day statistics and per-flight model features."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetIn, Output, asset
from pyspark.sql import DataFrame

from assets.gates import publish, suite_check_specs
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import LakehouseConfig
from assets.tables import asset_args, asset_key
from jobs import builds

# What every gold table shares: it reads silver flights for its range, day-partitioned.
DAILY_FROM_SILVER: dict[str, Any] = {
    "ins": {"flights": AssetIn(asset_key("silver/flights"))},
    "partitions_def": DAILY_2013,
    "backfill_policy": SINGLE_RUN,
}


@asset(
    **asset_args("gold/route_daily"),
    **DAILY_FROM_SILVER,
    check_specs=suite_check_specs(asset_key("gold/route_daily"), "route_daily"),
)
def route_daily(
    context: AssetExecutionContext, lakehouse: LakehouseConfig, flights: DataFrame
) -> Iterator[Output[DataFrame] | AssetCheckResult]:
    start, end = partition_dates(context)
    yield from publish(
        builds.route_daily(lakehouse.settings(), flights, start, end, context.run_id)
    )


@asset(**asset_args("gold/flight_features"), **DAILY_FROM_SILVER)
def flight_features(flights: DataFrame) -> DataFrame:
    return builds.flight_features(flights).outputs["gold/flight_features"]
