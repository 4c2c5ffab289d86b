"""Bronze assets: landing files as received, one commit per partition range."""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Output,
    asset,
)
from pyspark.sql import DataFrame

from assets.gates import publish, suite_check_specs
from assets.landing import LANDING_FLIGHTS, LANDING_WEATHER
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import PARTITION_COLUMN, SparkResource
from jobs import builds, pipeline


def _bronze_asset(
    dataset: pipeline.DailyDataset, landing_key: AssetKey, suite: str | None
) -> AssetsDefinition:
    key = AssetKey(["bronze", dataset.name])
    checks = suite_check_specs(key, suite) if suite else []

    @asset(
        key=key,
        deps=[landing_key],
        check_specs=checks,
        partitions_def=DAILY_2013,
        backfill_policy=SINGLE_RUN,
        group_name="bronze",
        kinds={"spark", "delta"},
        metadata={PARTITION_COLUMN: dataset.date_column},
        description=(
            f"Landed {dataset.name} rows as received: every field a string, plus source file, "
            f"line number and ingestion time. Partitioned by {dataset.date_column}."
        ),
    )
    def _bronze(
        context: AssetExecutionContext, spark: SparkResource
    ) -> Iterator[Output[DataFrame] | AssetCheckResult]:
        start, end = partition_dates(context)
        settings = spark.lakehouse.settings()
        session = spark.session(f"bronze/{dataset.name} {start}..{end}")
        build = builds.bronze(session, settings, dataset, start, end, context.run_id)
        yield from publish(build)  # each output is written by the IO manager as it is yielded

    return _bronze


bronze_flights = _bronze_asset(pipeline.FLIGHTS, LANDING_FLIGHTS.key, "bronze_flights")
bronze_weather = _bronze_asset(pipeline.WEATHER, LANDING_WEATHER.key, None)
