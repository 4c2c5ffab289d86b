"""The Spark assets out of process, through Dagster Pipes.

With ``[spark] runner`` set to a ``pipes_*`` mode, every Spark asset keeps its key,
partitions, dependencies and checks, but its body submits the layer's job instead of
computing in the Dagster process: ``spark-submit`` here (``PipesSubprocessClient``), a
transient EMR cluster (``PipesEMRClient``) or EMR Serverless
(``PipesEMRServerlessClient``). The job (``spark-submit/pipes_job.py``) runs the same
builds, audits and writes as the in-process assets and reports each table and check
back, with row counts, Delta versions and the Spark application id as metadata.
"""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, AssetsDefinition, multi_asset

from assets.resources import SparkPipes
from jobs.tables import table


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
