"""spark-submit entry point under Dagster Pipes: a layer's job that reports back to Dagster.

    spark-submit spark-submit/pipes_job.py LAYER --env ENV --start D --end D [--tables ...]

Dagster's Pipes clients start this (PipesSubprocessClient through spark-submit/submit
locally, PipesEMRServerlessClient on AWS). It runs exactly the job that
``jobs/entrypoints/<layer>_job.py`` runs and reports every audit as an asset check and every table
written as a materialization (rows, Delta version, Spark app id, history link, plan).
Outside a Pipes session it behaves like the plain entry point. Kept out of ``jobs/`` so
that package never imports Dagster code.
"""

from __future__ import annotations

import sys
from typing import Any

from dagster_pipes import (
    PipesContext,
    PipesDefaultMessageWriter,
    PipesEnvVarParamsLoader,
    PipesMessageWriter,
    PipesS3MessageWriter,
    open_dagster_pipes,
)

from jobs.compose.builds import Build
from jobs.entrypoints.runner import LAYERS, main
from jobs.io.table_io import TableWrite, write_metadata


class PipesReporter:
    """Reports a layer job's audits and writes to the Dagster run that started it."""

    def __init__(self, pipes: PipesContext) -> None:
        self.pipes = pipes

    def audited(self, build: Build) -> None:
        for outcome in build.check_outcomes():
            self.pipes.report_asset_check(
                check_name=outcome.check_name,
                passed=outcome.passed,
                severity="ERROR" if outcome.blocking else "WARN",
                metadata=outcome.plain_metadata(),
                asset_key=outcome.table,
            )

    def wrote(self, written: TableWrite) -> None:
        self.pipes.report_asset_materialization(
            metadata=write_metadata(written),
            asset_key=written.table,
        )

    def reported(self, key: str, metadata: dict[str, dict[str, Any]]) -> None:
        self.pipes.report_asset_materialization(metadata=metadata, asset_key=key)


def message_writer(params: PipesEnvVarParamsLoader) -> PipesMessageWriter[Any]:
    """S3 when Dagster reads messages from a bucket (EMR), else the default (file, stdio)."""
    if "bucket" in params.load_messages_params():
        import boto3

        return PipesS3MessageWriter(client=boto3.client("s3"))
    return PipesDefaultMessageWriter()


def run(argv: list[str]) -> int:
    if not argv or argv[0] not in LAYERS:
        print(f"usage: pipes_job.py {{{','.join(LAYERS)}}} [job options]", file=sys.stderr)
        return 2
    layer, rest = argv[0], argv[1:]
    params = PipesEnvVarParamsLoader()
    if not params.is_dagster_pipes_process():
        return main(layer, rest)
    with open_dagster_pipes(params_loader=params, message_writer=message_writer(params)) as pipes:
        pipes.log.info(f"{layer} job for {pipes.asset_keys}")
        return main(layer, rest, PipesReporter(pipes))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
