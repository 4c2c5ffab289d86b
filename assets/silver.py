"""Silver assets: typed, UTC, deduplicated and enriched; rejected rows go to quarantine."""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetsDefinition,
    Output,
    asset,
    multi_asset,
)
from pyspark.sql import DataFrame

from assets.gates import ACCOUNTING_CHECK, publish, suite_check_specs
from assets.landing import landing_key
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import LakehouseConfig, SparkResource
from assets.tables import asset_args, asset_key, asset_out
from jobs.compose import builds


def _dimension_asset(name: str) -> AssetsDefinition:
    table = f"silver/{name}"

    @asset(
        **asset_args(table),
        check_specs=suite_check_specs(asset_key(table), name),
        deps=[landing_key(name)],
    )
    def _dimension(
        context: AssetExecutionContext, spark: SparkResource
    ) -> Iterator[Output[DataFrame] | AssetCheckResult]:
        settings = spark.lakehouse.settings()
        session = spark.session(table)
        yield from publish(builds.dimension(session, settings, name, context.run_id))

    return _dimension


silver_planes = _dimension_asset("planes")
silver_airports = _dimension_asset("airports")
silver_airlines = _dimension_asset("airlines")


@multi_asset(
    outs=dict([asset_out("silver/weather"), asset_out("quarantine/weather")]),
    ins={"bronze_weather": AssetIn(asset_key("bronze/weather"))},
    partitions_def=DAILY_2013,
    backfill_policy=SINGLE_RUN,
)
def silver_weather(
    context: AssetExecutionContext, bronze_weather: DataFrame
) -> Iterator[Output[DataFrame] | AssetCheckResult]:
    yield from publish(builds.silver_weather(bronze_weather, context.run_id), multi_asset=True)


SILVER_FLIGHTS = asset_key("silver/flights")


@multi_asset(
    outs=dict([asset_out("silver/flights"), asset_out("quarantine/flights")]),
    ins={
        "bronze_flights": AssetIn(asset_key("bronze/flights")),
        "weather": AssetIn(asset_key("silver/weather")),
        "planes": AssetIn(asset_key("silver/planes")),
        "airports": AssetIn(asset_key("silver/airports")),
        "airlines": AssetIn(asset_key("silver/airlines")),
    },
    check_specs=[
        *suite_check_specs(SILVER_FLIGHTS, "silver_flights"),
        AssetCheckSpec(
            ACCOUNTING_CHECK,
            asset=SILVER_FLIGHTS,
            blocking=True,
            description="For every day of the range, bronze rows = silver rows + quarantined "
            "rows; audited before the range is written.",
        ),
    ],
    partitions_def=DAILY_2013,
    backfill_policy=SINGLE_RUN,
)
def silver_flights(
    context: AssetExecutionContext,
    lakehouse: LakehouseConfig,
    bronze_flights: DataFrame,
    weather: DataFrame,
    planes: DataFrame,
    airports: DataFrame,
    airlines: DataFrame,
) -> Iterator[Output[DataFrame] | AssetCheckResult]:
    start, end = partition_dates(context)
    build = builds.silver_flights(
        lakehouse.settings(),
        bronze_flights,
        weather,
        planes,
        airports,
        airlines,
        start,
        end,
        context.run_id,
    )
    yield from publish(build, multi_asset=True)  # published only after the audits pass
