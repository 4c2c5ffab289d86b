"""Loading a lakehouse table's range into the warehouse, and planning it for ``--dry-run``.

The range is read from Delta through the one read path (:mod:`jobs.table_io`); DuckDB and
PostgreSQL take it as Arrow, Redshift through Parquet staged on S3 and ``COPY``.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from jobs.io import delta_io, export, table_io
from jobs.settings import DuckDBWarehouse, PostgresWarehouse, RedshiftWarehouse, Settings
from jobs.tables import table
from warehouse.connect import Warehouse, sql_warehouse
from warehouse.redshift import RedshiftClient, plan_load
from warehouse.schema import column_defs
from warehouse.sqlwarehouse import LoadResult
from warehouse.tables import WarehouseTable


@dataclass(frozen=True)
class TableLoad:
    """What loading one table did, with both sides' row counts for the range."""

    result: LoadResult
    lakehouse_rows: int
    warehouse_rows: int
    backend: str
    source: str | None = None  # a dimension's table identity (delta_io.table_identity)
    skipped: bool = False  # the warehouse already held that source: nothing was loaded


def _source(
    spark: SparkSession,
    settings: Settings,
    spec: WarehouseTable,
    start: dt.date | None,
    end: dt.date | None,
) -> DataFrame:
    return table_io.read_input(spark, settings, table("/".join(spec.source)), start, end)


def load_table(
    spark: SparkSession,
    settings: Settings,
    target: Warehouse,
    spec: WarehouseTable,
    start: dt.date | None,
    end: dt.date | None,
) -> TableLoad:
    """Load ``spec`` for ``[start, end]`` from the lakehouse into ``target``, the open
    warehouse of ``settings`` (:func:`warehouse.connect.open_warehouse`)."""
    df = _source(spark, settings, spec, start, end)
    if isinstance(target, RedshiftClient):
        assert isinstance(settings.warehouse, RedshiftWarehouse)
        fields = [(f.name, f.dataType.simpleString()) for f in df.schema.fields]
        plan = plan_load(
            settings.warehouse,
            spec,
            column_defs("redshift", fields),
            start,
            end,
            uuid.uuid4().hex[:12],
        )
        export.write_parquet(df, plan.spark_staging_uri)
        lake_rows = spark.read.parquet(plan.spark_staging_uri).count()
        result = target.execute(plan)
        return TableLoad(result, lake_rows, result.rows_inserted, "redshift")
    began, source = time.monotonic(), None
    if not spec.partitioned:
        # Read before the rows: a commit in between makes the recorded identity older than
        # the rows loaded, which costs one more load later, never a wrong skip.
        path = settings.table_uri(*spec.source)
        source = delta_io.table_identity(spark, path)
        held = target.holds(spec, source) if _skips_unchanged(settings) else None
        if held is not None:
            seconds = round(time.monotonic() - began, 2)
            result = LoadResult(f"{target.schema}.{spec.name}", 0, 0, seconds, ())
            rows = delta_io.row_count(spark, path)  # the check's figure: no Spark job for it
            return TableLoad(result, rows, held, target.backend, source, skipped=True)
    data = export.to_arrow(df)
    result = target.load(spec, data, start, end, source)
    return TableLoad(result, data.num_rows, target.count(spec, start, end), target.backend, source)


def _skips_unchanged(settings: Settings) -> bool:
    config = settings.warehouse
    return isinstance(config, DuckDBWarehouse | PostgresWarehouse) and (
        config.skip_unchanged_dimensions
    )


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
