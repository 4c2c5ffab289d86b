"""Dagster resources, all built by one factory from the environment's settings.

Settings are loaded when a run uses a resource, never at import time, so loading the
definitions needs no configuration beyond ``LAKEHOUSE_ENV``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import ExitStack
from typing import Any

from dagster import (
    AssetExecutionContext,
    ConfigurableIOManager,
    ConfigurableResource,
    DagsterRun,
    InitResourceContext,
    InputContext,
    OutputContext,
    PipesSubprocessClient,
)
from pydantic import PrivateAttr
from pyspark.sql import DataFrame, SparkSession

from assets.metadata import render
from assets.partitions import run_dates, window_dates
from expectations.context import GATE_IMPORTS, open_meanwhile
from jobs.entrypoints import submission
from jobs.io import table_io
from jobs.io.model_registry import MODEL_IMPORTS
from jobs.io.session import application_name, build_spark_session
from jobs.settings import Settings, load_settings
from jobs.tables import table
from warehouse.connect import Warehouse, open_warehouse, sql_warehouse


class LakehouseConfig(ConfigurableResource):
    """Which environment a run targets; the one door to its settings."""

    env: str = "local"

    def settings(self) -> Settings:
        return load_settings(self.env)


class SparkResource(ConfigurableResource):
    """The process's Spark session, built by the one session builder for the run's days: a
    run of a few days plans its queries as a small run (``[spark.small_run]``)."""

    lakehouse: LakehouseConfig
    _days: tuple[dt.date, dt.date] | None = PrivateAttr(default=None)
    _imports: tuple[str, ...] = PrivateAttr(default=())

    def setup_for_execution(self, context: InitResourceContext) -> None:
        run = context.run
        self._days = run_dates(run.tags) if run else None
        self._imports = run_imports(run_layers(run)) if run else ()

    def session(self, app_name: str = "flights-lakehouse") -> SparkSession:
        settings = self.lakehouse.settings().for_range(*(self._days or (None, None)))
        spark = spark_session(settings, app_name, self._imports)
        if set(GATE_IMPORTS) <= set(self._imports):  # a run that gates, GX imported by now
            open_meanwhile(settings)
        return spark


GATED_LAYERS = frozenset({"bronze", "silver", "gold"})


def run_layers(run: DagsterRun) -> set[str] | None:
    """The layers of the assets ``run`` executes: from its asset selection (a launched run),
    else from its steps (an in-process run of a selection), whose names start with their
    asset's layer (``bronze__flights``, ``silver_flights``); None when it does not say."""
    if run.asset_selection:
        return {key.path[0] for key in run.asset_selection}
    if run.step_keys_to_execute:
        return {step.split("_", 1)[0] for step in run.step_keys_to_execute}
    return None


def run_imports(layers: AbstractSet[str] | None) -> tuple[str, ...]:
    """What a run's steps will import, to be imported while its JVM starts: Great
    Expectations when it has gated assets (bronze, silver, gold), MLflow when it has the
    model's; a run that does not say which (None) runs everything."""
    layers = layers if layers is not None else GATED_LAYERS | {"ml"}
    gates = GATE_IMPORTS if layers & GATED_LAYERS else ()
    return gates + (MODEL_IMPORTS if "ml" in layers else ())


def spark_session(
    settings: Settings, purpose: str, import_meanwhile: Sequence[str] = ()
) -> SparkSession:
    """The process's Spark session (the one builder's), its app named by ``purpose``;
    ``import_meanwhile`` as :func:`build_spark_session` takes it."""
    return build_spark_session(settings, application_name(settings, purpose), import_meanwhile)


class WarehouseResource(ConfigurableResource):
    """The environment's warehouse: DuckDB (local), PostgreSQL (dev) or Redshift (prod).

    It owns the connection: opened when a run first loads a table, shared by every load and
    row-count check of the run, closed when the run's execution ends (so a run's loads take
    one DuckDB write lock or one PostgreSQL connection, not one per call). Passwords are read
    from the environment variable the settings name, when connecting only.
    """

    lakehouse: LakehouseConfig
    _opened: ExitStack | None = PrivateAttr(default=None)
    _target: Warehouse | None = PrivateAttr(default=None)

    def target(self) -> Warehouse:
        """The open warehouse (connected on first use)."""
        if self._target is None:
            self._opened = ExitStack()
            self._target = self._opened.enter_context(open_warehouse(self.lakehouse.settings()))
        return self._target

    def query(self, statement: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """One read-only query on a connection of its own (DuckDB or PostgreSQL)."""
        settings = self.lakehouse.settings()
        if settings.warehouse.backend == "redshift":
            raise ValueError("queries read DuckDB or PostgreSQL; use the Redshift query editor")
        return sql_warehouse(settings).query(statement)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._opened is not None:
            self._opened.close()
        self._opened, self._target = None, None


def pipes_job_arguments(
    settings: Settings, start: dt.date, end: dt.date, tables: Sequence[str], run_id: str
) -> list[str]:
    """Arguments of ``pipes_job.py <layer>``: the range, the selected tables, the run."""
    return [
        "--env", settings.env, "--start", start.isoformat(), "--end", end.isoformat(),
        "--tables", ",".join(tables), "--run-id", run_id,
    ]  # fmt: skip


class SparkPipes(ConfigurableResource):
    """Launches a layer's spark-submit job out of process (Dagster Pipes) and relays what it
    reports: the ``[spark] runner`` other than ``in_process`` (see ``assets/pipes.py``)."""

    lakehouse: LakehouseConfig

    def run(self, context: AssetExecutionContext, job: str, tables: Sequence[str]) -> Iterator[Any]:
        settings = self.lakehouse.settings()
        # A range run's tags reach its unpartitioned assets too: only a daily asset has one.
        if context.assets_def.partitions_def is not None and context.has_partition_key_range:
            start, end = window_dates(context.partition_time_window)
        else:  # dimensions, the model: the range is not used
            start, end = settings.pipeline.first_date, settings.pipeline.last_date
        args = pipes_job_arguments(settings, start, end, tables, context.run_id)
        mode = settings.spark.runner
        if mode == "pipes_subprocess":
            driver = settings.for_range(start, end)  # a few days: the JVM of a small run
            command = submission.local_command(driver, job, args, packaged=False, pipes=True)
            invocation = PipesSubprocessClient().run(
                command=command, context=context, env=submission.local_environment(False)
            )
        elif mode == "pipes_emr_serverless":
            from dagster_aws.pipes import PipesEMRServerlessClient

            request = submission.emr_serverless_request(settings, job, args, pipes=True)
            client = PipesEMRServerlessClient(message_reader=_s3_message_reader(settings))
            invocation = client.run(context=context, start_job_run_params=request)
        elif mode == "pipes_emr":
            from dagster_aws.pipes import PipesEMRClient

            request = submission.emr_run_job_flow_request(settings, job, args, pipes=True)
            client_emr = PipesEMRClient(message_reader=_s3_message_reader(settings))
            invocation = client_emr.run(context=context, run_job_flow_params=request)
        else:
            raise ValueError(f"[spark] runner = {mode!r} does not run through Dagster Pipes")
        yield from invocation.get_results()


def _s3_message_reader(settings: Settings) -> Any:
    """Messages from the EMR job come back through the package bucket."""
    import boto3
    from dagster_aws.pipes import PipesS3MessageReader

    from jobs.io.objectstore import split_uri

    bucket, _ = split_uri(submission.emr_settings(settings).code_uri)
    return PipesS3MessageReader(bucket=bucket, client=boto3.client("s3"))


class DeltaIOManager(ConfigurableIOManager):
    """Stores asset DataFrames as the registered Delta tables, through the one write path.

    Which table an asset is, and how it is written (a daily range replaced in one commit,
    a dimension merged on its key), comes from the table registry (:mod:`jobs.tables`);
    :func:`jobs.table_io.write_table` writes it and its record becomes the metadata: rows,
    Delta version, path, range, duration, column schema, the Spark application with its
    history link, and the formatted physical plan of the write.
    """

    spark: SparkResource

    def handle_output(self, context: OutputContext, obj: DataFrame | table_io.Snapshot) -> None:
        settings = self.spark.lakehouse.settings()
        target = table(context.asset_key.to_user_string())
        bounds = (
            window_dates(context.asset_partitions_time_window) if target.daily else (None, None)
        )
        written = table_io.write_table(settings, target, obj, *bounds)
        context.log.info(table_io.describe(written))
        context.add_output_metadata(render(table_io.write_metadata(written)))

    def load_input(self, context: InputContext) -> DataFrame:
        upstream = context.upstream_output
        assert upstream is not None and upstream.asset_key is not None
        source = table(upstream.asset_key.to_user_string())
        bounds = (
            window_dates(context.asset_partitions_time_window)
            if context.has_asset_partitions
            else (None, None)
        )
        settings = self.spark.lakehouse.settings()
        return table_io.read_input(self.spark.session(), settings, source, *bounds)


def build_resources(env: str) -> dict[str, Any]:
    """Every resource of environment ``env``; the only place resources are assembled."""
    lakehouse = LakehouseConfig(env=env)
    spark = SparkResource(lakehouse=lakehouse)
    return {
        "lakehouse": lakehouse,
        "spark": spark,
        "spark_pipes": SparkPipes(lakehouse=lakehouse),
        "warehouse": WarehouseResource(lakehouse=lakehouse),
        "io_manager": DeltaIOManager(spark=spark),
    }
