"""The Spark assets out of process, through Dagster Pipes.

With ``[spark] runner`` set to a ``pipes_*`` mode, every Spark asset keeps its key,
partitions, dependencies and checks, but its body submits the layer's job instead of
computing in the Dagster process: ``spark-submit`` here (``PipesSubprocessClient``), a
transient EMR cluster (``PipesEMRClient``) or EMR Serverless
(``PipesEMRServerlessClient``). The job (``spark-submit/pipes_job.py``) runs the same
builds, audits and writes as the in-process assets and reports each table and check
back, with row counts, Delta versions and the Spark application id as metadata.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    ConfigurableResource,
    PipesSubprocessClient,
    multi_asset,
)

from assets.resources import LakehouseConfig
from jobs import submission
from jobs.settings import Settings
from jobs.tables import table


def job_arguments(
    settings: Settings, start: dt.date, end: dt.date, tables: Sequence[str], run_id: str
) -> list[str]:
    """Arguments of ``pipes_job.py <layer>``: the range, the selected tables, the run."""
    return [
        "--env", settings.env, "--start", start.isoformat(), "--end", end.isoformat(),
        "--tables", ",".join(tables), "--run-id", run_id,
    ]  # fmt: skip


class SparkPipes(ConfigurableResource):
    """Launches a layer's job out of process and relays what it reports."""

    lakehouse: LakehouseConfig

    def run(self, context: AssetExecutionContext, job: str, tables: Sequence[str]) -> Iterator[Any]:
        settings = self.lakehouse.settings()
        if context.has_partition_key_range:
            window = context.partition_time_window
            start, end = window.start.date(), (window.end - dt.timedelta(days=1)).date()
        else:  # dimensions: the range is not used
            start, end = settings.pipeline.first_date, settings.pipeline.last_date
        args = job_arguments(settings, start, end, tables, context.run_id)
        mode = settings.spark.runner
        if mode == "pipes_subprocess":
            command = submission.local_command(settings, job, args, packaged=False, pipes=True)
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

    from jobs.objectstore import split_uri

    bucket, _ = split_uri(submission.emr_settings(settings).code_uri)
    return PipesS3MessageReader(bucket=bucket, client=boto3.client("s3"))


def pipes_variant(asset: AssetsDefinition) -> AssetsDefinition:
    """``asset`` with the same keys, partitions, deps and checks, computed out of process."""
    specs = list(asset.specs)
    tables = [spec.key.to_user_string() for spec in specs]
    jobs = {table(key).job for key in tables}
    if len(jobs) != 1 or None in jobs:
        raise ValueError(f"{', '.join(tables)}: not written by exactly one spark-submit job")
    job = str(jobs.pop())

    @multi_asset(
        name=asset.node_def.name,
        specs=specs,
        check_specs=list(asset.check_specs),
        backfill_policy=asset.backfill_policy,
        pool="spark",
    )
    def _out_of_process(context: AssetExecutionContext, spark_pipes: SparkPipes) -> Iterator[Any]:
        yield from spark_pipes.run(context, job, tables)

    return _out_of_process
