"""Bronze assets: landing files as received, one commit per partition range."""

import datetime as dt
from collections.abc import Iterator

from dagster import AssetExecutionContext, AssetsDefinition, Output, asset
from pyspark.sql import DataFrame

from assets.landing import LANDING_FLIGHTS, LANDING_WEATHER
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import PARTITION_COLUMN, SparkResource
from jobs import pipeline


def _bronze_asset(dataset: pipeline.DailyDataset, landing_key: object) -> AssetsDefinition:
    @asset(
        name=dataset.name,
        key_prefix="bronze",
        deps=[landing_key],  # type: ignore[list-item]
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
    ) -> Iterator[Output[DataFrame]]:
        start, end = partition_dates(context)
        session = spark.session(f"bronze/{dataset.name} {start}..{end}")
        ingest = pipeline.ingest_daily(
            session,
            spark.lakehouse.settings(),
            dataset,
            start,
            end,
            dt.datetime.now(dt.UTC),
        )
        yield Output(ingest.rows)  # written by the IO manager before the generator resumes
        ingest.release()

    return _bronze


bronze_flights = _bronze_asset(pipeline.FLIGHTS, LANDING_FLIGHTS.key)
bronze_weather = _bronze_asset(pipeline.WEATHER, LANDING_WEATHER.key)
