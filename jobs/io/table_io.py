"""The one write path: a registered table read or written, and the record of what happened.

:func:`write_table` writes any table of the registry the way the registry says (a daily
table's range replaced in one commit, a dimension merged on its key) and returns a
:class:`TableWrite`, a plain record. :func:`write_metadata` turns that record into the
metadata every write reports, in Dagster Pipes' plain ``{"raw_value", "type"}`` form:
the Dagster IO manager renders it as ``MetadataValue``s, the spark-submit job sends it
through Pipes as it is, and ``--report`` writes the record as JSON.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from jobs.io import delta_io
from jobs.io.session import formatted_plan, history_link
from jobs.settings import Settings
from jobs.tables import Table

PLAN_LIMIT = 10_000  # characters of the formatted plan kept: Dagster stores it per partition
# What the operating system or the object store says when storage refuses a write; buried
# in a Java stack trace several causes deep, so it is looked for in the whole text.
STORAGE_REFUSALS = re.compile(
    r"No space left on device|Read-only file system|File too large|Disk quota exceeded"
    r"|Permission denied|AccessDenied|Access Denied|QuotaExceeded"
)


class StorageError(OSError):
    """Storage refused a table write (full, read-only, not permitted); nothing was committed."""


@contextmanager
def storage_refusals(table: str, path: str) -> Iterator[None]:
    """Turn a write refused by storage into one line naming the table, its path and why."""
    try:
        yield
    except Exception as exc:
        found = STORAGE_REFUSALS.search(str(exc))
        if found is None:
            raise
        raise StorageError(
            f"cannot write {table} at {path}: {found.group(0)}; "
            "nothing was committed, the table keeps its previous version"
        ) from exc


@dataclass(frozen=True)
class TableWrite:
    """One table's commit, as logs, reports and Dagster metadata show it."""

    table: str
    uri: str
    rows: int
    delta_version: int
    # WRITE, MERGE, UNCHANGED (a merge that changed nothing) or UNCHANGED_SNAPSHOT (the
    # snapshot was the newest commit's: not read)
    operation: str
    write_seconds: float
    partition_range: str | None  # daily tables: first..last day written
    rows_total: int | None  # dimensions: rows in the table after the merge
    columns: tuple[tuple[str, str], ...]  # (name, Spark type) of what was written
    spark_app_id: str
    spark_app_name: str
    history_url: str | None
    plan: str
    # The build's Spark work before publishing (jobs/compose/builds.py), on its first output
    # only: a group's outputs share one build.
    build_seconds: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """A dimension's landed snapshot to merge, with its content fingerprint. The merge's
    commit records the fingerprint; ``frame`` is None when the table's newest commit already
    has it (the same snapshot, typed by the same schema): nothing is read or merged."""

    fingerprint: str
    frame: DataFrame | None


def read_input(
    spark: SparkSession,
    settings: Settings,
    table: Table,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> DataFrame:
    """An input table: ``[start, end]`` of a daily table, or all of a dimension."""
    path = settings.table_uri(*table.path)
    if not delta_io.is_table(spark, path):
        raise FileNotFoundError(f"{table.key} has no Delta table at {path}: materialize it first")
    if table.date_column and start and end:
        return delta_io.read_range(spark, path, table.date_column, start, end)
    return delta_io.read_table(spark, path)


def write_table(
    settings: Settings,
    table: Table,
    data: DataFrame | Snapshot,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> TableWrite:
    """Write ``data`` as ``table``: replace ``[start, end]`` of a daily table, or merge a
    dimension's snapshot on its key; returns what the commit did."""
    path = settings.table_uri(*table.path)
    if isinstance(data, Snapshot) and data.frame is None:
        return _unchanged(settings, table, path)
    df = data.frame if isinstance(data, Snapshot) else data
    assert df is not None
    plan = formatted_plan(df, limit=PLAN_LIMIT)
    began = time.monotonic()
    rows_total = None
    if table.date_column and not (start and end):
        raise ValueError(f"{table.key} is written by date range: give start and end")
    properties = table.delta_properties
    with storage_refusals(table.key, path):
        delta_io.set_properties(df.sparkSession, path, properties)  # a table made before
        if table.date_column:
            assert start and end
            result = delta_io.write_range(df, path, table.date_column, start, end, properties)
        else:
            fingerprint = data.fingerprint if isinstance(data, Snapshot) else None
            result = delta_io.merge_on_key(df, path, table.merge_key, fingerprint, properties)
            rows_total = delta_io.row_count(df.sparkSession, path)
    context = df.sparkSession.sparkContext
    return TableWrite(
        table=table.key,
        uri=path,
        rows=result.rows_written,
        delta_version=result.version,
        operation=result.operation,
        write_seconds=round(time.monotonic() - began, 2),
        partition_range=f"{start}..{end}" if table.date_column else None,
        rows_total=rows_total,
        columns=tuple((f.name, f.dataType.simpleString()) for f in df.schema.fields),
        spark_app_id=context.applicationId,
        spark_app_name=context.appName or "",
        history_url=history_link(settings, context.applicationId),
        plan=plan,
    )


def _unchanged(settings: Settings, table: Table, path: str) -> TableWrite:
    """The record of a dimension whose snapshot is already the table's newest commit."""
    began = time.monotonic()
    spark = SparkSession.getActiveSession()
    assert spark is not None, "a Spark session is needed to read the table's last commit"
    result = delta_io.last_commit(spark, path)
    context = spark.sparkContext
    schema = delta_io.read_table(spark, path).schema
    return TableWrite(
        table=table.key,
        uri=path,
        rows=0,
        delta_version=result.version,
        operation=UNCHANGED_SNAPSHOT,
        write_seconds=round(time.monotonic() - began, 2),
        partition_range=None,
        rows_total=None,
        columns=tuple((f.name, f.dataType.simpleString()) for f in schema.fields),
        spark_app_id=context.applicationId,
        spark_app_name=context.appName or "",
        history_url=history_link(settings, context.applicationId),
        plan="(not read: the same snapshot as the table's newest commit)",
    )


# The operation a write reports when the landed snapshot was already merged.
UNCHANGED_SNAPSHOT = "UNCHANGED_SNAPSHOT"


def write_metadata(w: TableWrite) -> dict[str, dict[str, Any]]:
    """The metadata of a write, as ``{key: {"raw_value": ..., "type": ...}}``."""
    entries: dict[str, tuple[Any, str]] = {
        "dagster/row_count": (w.rows, "int"),
        "dagster/uri": (w.uri, "text"),
        "dagster/column_schema": (
            {"columns": [{"name": name, "type": kind} for name, kind in w.columns]},
            "table_schema",
        ),
        "delta_version": (w.delta_version, "int"),
        "delta_operation": (w.operation, "text"),
        "write_seconds": (w.write_seconds, "float"),
        "spark_app_id": (w.spark_app_id, "text"),
        "spark_app_name": (w.spark_app_name, "text"),
        "spark_plan": (f"```\n{w.plan}\n```", "md"),
        "path": (w.uri, "path"),
    }
    if w.history_url:
        entries["spark_history"] = (w.history_url, "url")
    if w.partition_range:
        entries["partition_range"] = (w.partition_range, "text")
    if w.rows_total is not None:
        entries["rows_total"] = (w.rows_total, "int")
    if w.build_seconds is not None:
        entries["build_seconds"] = (w.build_seconds, "float")
    return plain_metadata(entries)


def plain_metadata(entries: dict[str, tuple[Any, str]]) -> dict[str, dict[str, Any]]:
    """``{key: (value, type)}`` in Dagster Pipes' plain ``{"raw_value", "type"}`` form."""
    return {key: {"raw_value": value, "type": kind} for key, (value, kind) in entries.items()}


def describe(w: TableWrite) -> str:
    """One log line for a write."""
    span = f" {w.partition_range}" if w.partition_range else ""
    return (
        f"wrote {w.table}{span}: {w.rows:,} rows, {w.operation} as Delta version "
        f"{w.delta_version} in {w.write_seconds}s"
    )
