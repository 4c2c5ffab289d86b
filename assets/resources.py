"""Dagster resources, all built by one factory from the environment's settings.

Settings are loaded when a run uses a resource, never at import time, so loading the
definitions needs no configuration beyond ``LAKEHOUSE_ENV``.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from dagster import (
    ConfigurableIOManager,
    ConfigurableResource,
    InputContext,
    MetadataValue,
    OutputContext,
    TableColumn,
    TableSchema,
)
from pyspark.sql import DataFrame, SparkSession

from jobs import delta_io
from jobs.session import build_spark_session, formatted_plan, history_link
from jobs.settings import Settings, load_settings

PARTITION_COLUMN = "partition_column"  # asset metadata: the date column of a daily table
MERGE_KEY = "merge_key"  # asset metadata: the key a dimension is merged on


class LakehouseConfig(ConfigurableResource):
    """Which environment a run targets; the one door to its settings."""

    env: str = "local"

    def settings(self) -> Settings:
        return load_settings(self.env)


class SparkResource(ConfigurableResource):
    """The process's Spark session, built by the one session builder."""

    lakehouse: LakehouseConfig

    def session(self, app_name: str = "flights-lakehouse") -> SparkSession:
        settings = self.lakehouse.settings()
        return build_spark_session(settings, f"flights-lakehouse[{settings.env}] {app_name}")


class WarehouseResource(ConfigurableResource):
    """The environment's warehouse: DuckDB (local), PostgreSQL (dev) or Redshift (prod).

    Connections are opened per load from the settings; passwords are read from the
    environment variable the settings name, at connection time only.
    """

    lakehouse: LakehouseConfig

    def backend(self) -> str:
        return self.lakehouse.settings().warehouse.backend


def table_location(settings: Settings, key_path: list[str]) -> str:
    """Delta location of an asset keyed ``[layer, table]``."""
    if len(key_path) != 2:
        raise ValueError(f"asset key {'/'.join(key_path)} is not <layer>/<table>")
    return settings.table_uri(*key_path)


def _range(window: Any) -> tuple[dt.date, dt.date]:
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()


def column_schema(df: DataFrame) -> TableSchema:
    """The Dagster column schema of a Spark DataFrame."""
    return TableSchema(
        columns=[
            TableColumn(name=f.name, type=f.dataType.simpleString(), constraints=None)
            for f in df.schema.fields
        ]
    )


class DeltaIOManager(ConfigurableIOManager):
    """Stores asset DataFrames as Delta tables at ``<tables>/<layer>/<table>``.

    A daily asset's partition range is replaced in one commit; a dimension is merged on
    its key. Each write records rows, Delta version, path, range, duration, the column
    schema, the Spark application with its link in the history server, and the formatted
    physical plan of the write as materialization metadata.
    """

    spark: SparkResource

    def handle_output(self, context: OutputContext, obj: DataFrame) -> None:
        settings = self.spark.lakehouse.settings()
        path = table_location(settings, list(context.asset_key.path))
        meta = context.definition_metadata or {}
        # What Spark will run for this write; cut short, as Dagster stores it per partition.
        plan = formatted_plan(obj, limit=10_000)
        began = time.monotonic()
        extra: dict[str, Any] = {}
        if context.has_asset_partitions:
            start, end = _range(context.asset_partitions_time_window)
            result = delta_io.write_range(obj, path, meta[PARTITION_COLUMN], start, end)
            extra["partition_range"] = f"{start}..{end}"
        elif MERGE_KEY in meta:
            result = delta_io.merge_on_key(obj, path, tuple(meta[MERGE_KEY]))
            extra["rows_total"] = delta_io.read_table(obj.sparkSession, path).count()
        else:
            raise ValueError(f"{context.asset_key.to_user_string()}: neither partitioned nor keyed")
        spark = obj.sparkSession
        seconds = round(time.monotonic() - began, 2)
        app_id = spark.sparkContext.applicationId
        link = history_link(settings, app_id)
        context.log.info(
            f"wrote {context.asset_key.to_user_string()} {extra.get('partition_range', '')}: "
            f"{result.rows_written:,} rows, {result.operation} as Delta version {result.version} "
            f"in {seconds}s"
        )
        context.add_output_metadata(
            {
                "dagster/row_count": result.rows_written,
                "dagster/uri": path,
                "dagster/column_schema": column_schema(obj),
                "delta_version": result.version,
                "delta_operation": result.operation,
                "write_seconds": seconds,
                "spark_app_id": app_id,
                "spark_app_name": spark.sparkContext.appName,
                **({"spark_history": MetadataValue.url(link)} if link else {}),
                "spark_plan": MetadataValue.md(f"```\n{plan}\n```"),
                "path": MetadataValue.path(path),
                **extra,
            }
        )

    def load_input(self, context: InputContext) -> DataFrame:
        upstream = context.upstream_output
        assert upstream is not None and upstream.asset_key is not None
        settings = self.spark.lakehouse.settings()
        spark = self.spark.session()
        path = table_location(settings, list(upstream.asset_key.path))
        if not delta_io.is_table(spark, path):
            raise FileNotFoundError(
                f"{upstream.asset_key.to_user_string()} has no Delta table at {path}: "
                "materialize it first"
            )
        if context.has_asset_partitions:
            start, end = _range(context.asset_partitions_time_window)
            column = (upstream.definition_metadata or {})[PARTITION_COLUMN]
            return delta_io.read_range(spark, path, column, start, end)
        return delta_io.read_table(spark, path)


def build_resources(env: str) -> dict[str, Any]:
    """Every resource of environment ``env``; the only place resources are assembled."""
    lakehouse = LakehouseConfig(env=env)
    spark = SparkResource(lakehouse=lakehouse)
    from assets.pipes import SparkPipes

    return {
        "lakehouse": lakehouse,
        "spark": spark,
        "spark_pipes": SparkPipes(lakehouse=lakehouse),
        "warehouse": WarehouseResource(lakehouse=lakehouse),
        "io_manager": DeltaIOManager(spark=spark),
    }
