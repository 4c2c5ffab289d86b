"""Gold assets: one per entry of ``jobs.compose.builds.GOLD_TABLES``, each a daily transform
of the range of silver flights, published through its gate when it has a suite."""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    AssetsDefinition,
    Output,
    asset,
)
from pyspark.sql import DataFrame

from assets.gates import publish, suite_check_specs
from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import LakehouseConfig
from assets.tables import asset_args, asset_key
from jobs.compose import builds


def _gold_asset(spec: builds.GoldTable) -> AssetsDefinition:
    key = asset_key(spec.table)

    @asset(
        **asset_args(spec.table),
        ins={"flights": AssetIn(asset_key("silver/flights"))},
        check_specs=suite_check_specs(key, spec.suite) if spec.suite else [],
        partitions_def=DAILY_2013,
        backfill_policy=SINGLE_RUN,
    )
    def _gold(
        context: AssetExecutionContext, lakehouse: LakehouseConfig, flights: DataFrame
    ) -> Iterator[Output[DataFrame] | AssetCheckResult]:
        start, end = partition_dates(context)
        settings = lakehouse.settings()
        yield from publish(builds.gold_table(spec, settings, flights, start, end, context.run_id))

    return _gold


gold_assets = [_gold_asset(spec) for spec in builds.GOLD_TABLES]
