"""Bronze assets: landing files as received, one commit per partition range."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, AssetsDefinition, Output, asset
from pyspark.sql import DataFrame

from assets.gates import publish, suite_check_specs
from assets.landing import landing_key
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import SparkResource
from assets.tables import asset_args, asset_key
from jobs.compose import builds, pipeline


def _bronze_asset(dataset: pipeline.DailyDataset, suite: str | None) -> AssetsDefinition:
    table = f"bronze/{dataset.name}"

    @asset(
        **asset_args(table),
        deps=[landing_key(dataset.name)],
        check_specs=suite_check_specs(asset_key(table), suite) if suite else [],
        partitions_def=DAILY_2013,
        backfill_policy=SINGLE_RUN,
    )
    def _bronze(
        context: AssetExecutionContext, spark: SparkResource
    ) -> Iterator[Output[DataFrame] | AssetCheckResult]:
        start, end = partition_dates(context)
        settings = spark.lakehouse.settings()
        session = spark.session(f"{table} {start}..{end}")
        build = builds.bronze(session, settings, dataset, start, end, context.run_id)
        yield from publish(build)  # each output is written by the IO manager as it is yielded

    return _bronze


bronze_flights = _bronze_asset(pipeline.FLIGHTS, "bronze_flights")
bronze_weather = _bronze_asset(pipeline.WEATHER, None)
