"""Warehouse assets: gold and dimension tables loaded into DuckDB, PostgreSQL or Redshift.

Each load replaces exactly its partition range (a dimension: the whole table) in one
warehouse transaction and checks the warehouse's row count against the lakehouse's.
"""

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    MaterializeResult,
    asset,
)
from pyspark.sql import DataFrame, SparkSession

from assets.partitions import DAILY_2013, SINGLE_RUN, partition_dates
from assets.resources import SparkResource, WarehouseResource
from jobs import delta_io, export
from jobs.settings import RedshiftWarehouse, Settings
from warehouse.connect import sql_warehouse
from warehouse.redshift import RedshiftClient, plan_load
from warehouse.schema import column_defs
from warehouse.sqlwarehouse import LoadResult
from warehouse.tables import WAREHOUSE_TABLES, WarehouseTable

ROW_COUNT_CHECK = "matches_lakehouse_row_count"


@dataclass(frozen=True)
class TableLoad:
    result: LoadResult
    lakehouse_rows: int
    warehouse_rows: int
    backend: str


def _source(
    spark: SparkSession,
    settings: Settings,
    spec: WarehouseTable,
    start: dt.date | None,
    end: dt.date | None,
) -> DataFrame:
    path = settings.table_uri(*spec.source)
    if spec.date_column and start and end:
        return delta_io.read_range(spark, path, spec.date_column, start, end)
    return delta_io.read_table(spark, path)


def load_table(
    spark: SparkSession,
    settings: Settings,
    spec: WarehouseTable,
    start: dt.date | None,
    end: dt.date | None,
) -> TableLoad:
    """Load ``spec`` for ``[start, end]`` from the lakehouse into the configured warehouse."""
    df = _source(spark, settings, spec, start, end)
    config = settings.warehouse
    if isinstance(config, RedshiftWarehouse):
        fields = [(f.name, f.dataType.simpleString()) for f in df.schema.fields]
        plan = plan_load(
            config, spec, column_defs("redshift", fields), start, end, uuid.uuid4().hex[:12]
        )
        export.write_parquet(df, plan.spark_staging_uri)
        lake_rows = spark.read.parquet(plan.spark_staging_uri).count()
        client = RedshiftClient(config)
        result = client.execute(plan)
        return TableLoad(result, lake_rows, result.rows_inserted, "redshift")
    target = sql_warehouse(settings)
    data = export.to_arrow(df)
    result = target.load(spec, data, start, end)
    return TableLoad(result, data.num_rows, target.count(spec, start, end), target.backend)


def plan_table(
    spark: SparkSession,
    settings: Settings,
    spec: WarehouseTable,
    start: dt.date | None,
    end: dt.date | None,
) -> str:
    """What loading ``spec`` would run, for ``--dry-run``; writes and contacts nothing."""
    schema = _source(spark, settings, spec, start, end).schema
    fields = [(f.name, f.dataType.simpleString()) for f in schema.fields]
    config = settings.warehouse
    if isinstance(config, RedshiftWarehouse):
        columns = column_defs("redshift", fields)
        return plan_load(config, spec, columns, start, end, "<load id>").render()
    target = sql_warehouse(settings)
    statements = target.plan(spec, column_defs(target.backend, fields), start, end)
    return (
        f"-- load {target.schema}.{spec.name} ({target.backend})\n" + ";\n".join(statements) + ";"
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
        done = load_table(session, settings, spec, start, end)
        result = done.result
        span = f" {start}..{end}" if start else ""
        context.log.info(
            f"loaded {result.table} ({done.backend}){span}: deleted "
            f"{result.rows_deleted:,}, inserted {result.rows_inserted:,} in {result.seconds}s"
        )
        yield MaterializeResult(
            metadata={
                "dagster/row_count": result.rows_inserted,
                "target_table": result.table,
                "backend": done.backend,
                "rows_deleted": result.rows_deleted,
                "rows_inserted": result.rows_inserted,
                "load_seconds": result.seconds,
                "columns_added": list(result.columns_added),
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
