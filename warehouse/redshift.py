"""Amazon Redshift, the way AWS recommends for bulk upserts.

The range is staged as Parquet under an S3 prefix (written by Spark), then one Redshift
Data API ``BatchExecuteStatement`` — a single transaction — creates a temp stage table,
``COPY``s the Parquet into it, locks the target, deletes the range and inserts the stage.
The staging objects are removed afterwards. Credentials come only from the AWS credential
chain (instance profile, IAM role, environment) and, for a provisioned cluster, a
Secrets Manager secret or IAM-based ``db_user``; nothing is stored in config or metadata.

None of this can run on this machine, so :func:`plan_load` is pure and pinned by contract
tests, and ``--dry-run`` prints its result.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from jobs.settings import RedshiftWarehouse as RedshiftSettings
from warehouse import sql
from warehouse.schema import ColumnDef, plan_migration
from warehouse.sqlwarehouse import LoadResult, WarehouseConnectionError
from warehouse.tables import WarehouseTable

POLL_SECONDS = 2.0
DONE = {"FINISHED", "FAILED", "ABORTED"}


@dataclass(frozen=True)
class RedshiftLoadPlan:
    """Everything one load will do, computed without contacting AWS."""

    table: str
    staging_uri: str  # s3://bucket/prefix/<table>/<load_id>/ (Spark writes it as s3a://)
    columns: list[ColumnDef]
    ddl: list[str]
    statements: list[str]
    request: dict[str, Any] = field(repr=False)

    @property
    def spark_staging_uri(self) -> str:
        return "s3a://" + self.staging_uri.removeprefix("s3://")

    def render(self) -> str:
        """Human-readable plan for ``--dry-run``."""
        lines = [
            f"-- load {self.table}",
            f"-- 1. Spark writes the range as Parquet to {self.staging_uri}",
        ]
        lines.append("-- 2. schema (ExecuteStatement, before the load):")
        lines += [f"{s};" for s in self.ddl]
        lines.append(
            "-- then ALTER TABLE ... ADD COLUMN for each column the table lacks "
            "(an incompatible change stops here)"
        )
        lines.append("-- 3. one transaction (BatchExecuteStatement):")
        lines += [f"{s};" for s in self.statements]
        lines.append(f"-- 4. delete every object under {self.staging_uri}")
        target = {k: v for k, v in self.request.items() if k != "Sqls"}
        lines.append(f"-- request target: {target}")
        return "\n".join(lines)


def _target(settings: RedshiftSettings) -> dict[str, Any]:
    target: dict[str, Any] = {"Database": settings.database}
    if settings.workgroup:
        target["WorkgroupName"] = settings.workgroup
    else:
        target["ClusterIdentifier"] = settings.cluster_id
    if settings.secret_arn:
        target["SecretArn"] = settings.secret_arn
    elif settings.db_user:
        target["DbUser"] = settings.db_user
    return target


def plan_load(
    settings: RedshiftSettings,
    spec: WarehouseTable,
    columns: list[ColumnDef],
    start: dt.date | None,
    end: dt.date | None,
    load_id: str,
) -> RedshiftLoadPlan:
    """The statements, staging prefix and API request of one load."""
    schema = settings.schema_name
    staging = f"{settings.staging_uri.rstrip('/')}/{spec.name}/{load_id}/"
    stage = sql.stage_name(spec, load_id)
    names = [c.name for c in columns]
    copy = sql.copy_stage_from_s3(stage, staging, settings.iam_role)
    statements = sql.load_transaction("redshift", schema, spec, names, stage, start, end, copy)
    ddl = [sql.create_schema(schema), sql.create_table("redshift", schema, spec, columns)]
    request = {
        **_target(settings),
        "Sqls": statements,
        "StatementName": f"flights-lakehouse load {spec.name} {load_id}",
    }
    return RedshiftLoadPlan(f"{schema}.{spec.name}", staging, columns, ddl, statements, request)


class RedshiftClient:
    """Runs a plan through the Redshift Data API and cleans the staging prefix."""

    def __init__(self, settings: RedshiftSettings, data_api: Any = None, s3: Any = None) -> None:
        import boto3

        self.settings = settings
        self.data_api = data_api or boto3.client("redshift-data", region_name=settings.region)
        self.s3 = s3 or boto3.client("s3", region_name=settings.region)

    def _wait(self, statement_id: str) -> dict[str, Any]:
        while True:
            described: dict[str, Any] = self.data_api.describe_statement(Id=statement_id)
            if described["Status"] in DONE:
                break
            time.sleep(POLL_SECONDS)
        if described["Status"] != "FINISHED":
            where = self.settings.workgroup or self.settings.cluster_id
            raise WarehouseConnectionError(
                f"Redshift {where}, database {self.settings.database!r}: statement "
                f"{statement_id} {described['Status']}: {described.get('Error', 'no error text')}"
            )
        return described

    def _run(self, statement: str, target: dict[str, Any]) -> dict[str, Any]:
        return self._wait(self.data_api.execute_statement(Sql=statement, **target)["Id"])

    def _missing_columns(self, plan: RedshiftLoadPlan, target: dict[str, Any]) -> list[ColumnDef]:
        """Columns to add (fails naming an incompatible one), from information_schema."""
        schema, table = plan.table.split(".")
        described = self._run(sql.existing_columns(schema, table), target)
        existing: dict[str, str] = {}
        if described.get("HasResultSet"):
            result = self.data_api.get_statement_result(Id=described["Id"])
            for record in result["Records"]:
                existing[record[0]["stringValue"]] = record[1]["stringValue"]
        return plan_migration(plan.table, existing, plan.columns)

    def execute(self, plan: RedshiftLoadPlan) -> LoadResult:
        """Run the DDL, then the load transaction; remove the staging objects either way."""
        began = time.monotonic()
        target = {k: v for k, v in plan.request.items() if k not in {"Sqls", "StatementName"}}
        try:
            for statement in plan.ddl:
                self._run(statement, target)
            for column in self._missing_columns(plan, target):
                self._run(
                    sql.add_column(self.settings.schema_name, plan.table.split(".")[1], column),
                    target,
                )
            described = self._wait(self.data_api.batch_execute_statement(**plan.request)["Id"])
        finally:
            self.remove_staging(plan.staging_uri)
        rows = [s.get("ResultRows", 0) for s in described.get("SubStatements", [])]
        deleted, inserted = (rows[-2], rows[-1]) if len(rows) >= 2 else (0, 0)
        return LoadResult(
            plan.table, int(deleted), int(inserted), round(time.monotonic() - began, 2)
        )

    def remove_staging(self, staging_uri: str) -> int:
        """Delete every object under ``staging_uri``; returns how many."""
        bucket, _, prefix = staging_uri.removeprefix("s3://").partition("/")
        removed = 0
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                self.s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                removed += len(keys)
        return removed
