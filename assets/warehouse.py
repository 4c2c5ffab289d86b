"""Warehouse assets: gold and dimension tables loaded into DuckDB, PostgreSQL or Redshift.

Each load replaces exactly its partition range (a dimension: the whole table) in one
warehouse transaction and checks the warehouse's row count against the lakehouse's. A
dimension whose lakehouse table is at the version the warehouse last loaded is not reloaded
(``skip_unchanged_dimensions``; Redshift always reloads).
"""

from collections.abc import Iterator

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    Jitter,
    MaterializeResult,
    RetryPolicy,
    asset,
)

from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import SparkResource, WarehouseResource
from warehouse.load import load_table
from warehouse.tables import WAREHOUSE_TABLES, WarehouseTable

ROW_COUNT_CHECK = "matches_lakehouse_row_count"
WAREHOUSE_POOL = "warehouse"


# A dropped connection or a Redshift Data API throttle passes; a load is one transaction,
# so trying it again is safe. (A DuckDB file held by another run is waited for, not retried:
# warehouse.sqlwarehouse.DuckDBWarehouse.)
WAREHOUSE_RETRY = RetryPolicy(
    max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)


def _warehouse_asset(spec: WarehouseTable) -> AssetsDefinition:
    key = AssetKey(["warehouse", spec.name])
    scope = "the partition range" if spec.partitioned else "the whole table"

    @asset(
        key=key,
        deps=[AssetKey(list(spec.source))],
        partitions_def=DAILY_2013 if spec.partitioned else None,
        backfill_policy=SINGLE_RUN if spec.partitioned else None,
        group_name="warehouse",
        kinds={"sql"},
        retry_policy=WAREHOUSE_RETRY,
        # One pool for every load: the prod instance caps concurrent loads (Redshift queues
        # commits on a cluster). Locally, DuckDB's file lock serializes them.
        pool=WAREHOUSE_POOL,
        description=(
            f"{'/'.join(spec.source)} in the warehouse table {spec.name}: {scope} is staged, then "
            "deleted and re-inserted in one transaction."
        ),
        check_specs=[
            AssetCheckSpec(
                ROW_COUNT_CHECK,
                asset=key,
                description="Warehouse rows equal lakehouse rows for the loaded range.",
            )
        ],
    )
    def _load(
        context: AssetExecutionContext, spark: SparkResource, warehouse: WarehouseResource
    ) -> Iterator[MaterializeResult]:
        start, end = partition_dates(context) if spec.partitioned else (None, None)
        settings = warehouse.lakehouse.settings()
        session = spark.session(f"warehouse/{spec.name}")
        done = load_table(session, settings, warehouse.target(), spec, start, end)
        result = done.result
        span = f" {start}..{end}" if start else ""
        if done.skipped:
            context.log.info(
                f"{result.table} ({done.backend}) already holds {'/'.join(spec.source)} "
                f"{done.source}: not reloaded"
            )
        else:
            context.log.info(
                f"loaded {result.table} ({done.backend}){span}: deleted "
                f"{result.rows_deleted:,}, inserted {result.rows_inserted:,} in {result.seconds}s"
            )
        yield MaterializeResult(
            metadata={
                # The table's rows, whether this run loaded them or an earlier one did.
                "dagster/row_count": done.warehouse_rows if done.skipped else result.rows_inserted,
                "target_table": result.table,
                "backend": done.backend,
                "rows_deleted": result.rows_deleted,
                "rows_inserted": result.rows_inserted,
                "load_seconds": result.seconds,
                "columns_added": list(result.columns_added),
                **({"source": done.source} if done.source else {}),
                **({"skipped": "unchanged since the last load"} if done.skipped else {}),
                **({"partition_range": f"{start}..{end}"} if start else {}),
            },
            check_results=[
                AssetCheckResult(
                    check_name=ROW_COUNT_CHECK,
                    passed=done.warehouse_rows == done.lakehouse_rows,
                    metadata={
                        "warehouse_rows": done.warehouse_rows,
                        "lakehouse_rows": done.lakehouse_rows,
                    },
                )
            ],
        )

    return _load


warehouse_assets = [_warehouse_asset(spec) for spec in WAREHOUSE_TABLES.values()]
