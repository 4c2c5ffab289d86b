"""Delta tables read without Spark, for commands that only report what tables hold.

`lakehouse status` (and `lakehouse score`, finding the last day to score) need a table's
version, rows, dates and newest commit: all of it is in the log (the active files' row
statistics and partition values), none in the data; `lakehouse quality` needs a day of the
quarantine's reasons, a few rows. Spark reads them only after a JVM has started, 10-15 s
for a command that answers in one. delta-rs (the `deltalake` package, Delta's Rust
implementation) reads the same log and files in milliseconds, from a local disk or through
the same S3 endpoint, region and credentials that S3A and boto3 use.

Spark stays the one writer, and the reader of the pipeline's data (:mod:`jobs.io.delta_io`);
this module writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jobs.io import objectstore
from jobs.settings import S3Settings


@dataclass(frozen=True)
class TableSummary:
    """What the log says a table holds at its newest version."""

    path: str
    version: int
    updated: dt.datetime  # the newest commit's time (its commitInfo), local time
    rows: int
    dates: int | None  # days with rows; None for a table without a date column
    first: dt.date | None
    last: dt.date | None


def storage_options(uri: str, s3: S3Settings) -> dict[str, str]:
    """delta-rs's options for ``uri``: for s3(a):// the endpoint, region and addressing that
    ``[s3]`` gives S3A and boto3 (keys come from the environment or the AWS chain, as there)."""
    if not objectstore.is_object_uri(uri):
        return {}
    options = {
        "AWS_REGION": s3.region,
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false" if s3.path_style_access else "true",
    }
    if s3.endpoint:
        options["AWS_ENDPOINT_URL"] = s3.endpoint
        options["AWS_ALLOW_HTTP"] = "true" if s3.endpoint.startswith("http://") else "false"
    return options


def _open(uri: str, s3: S3Settings) -> Any:
    """The table at ``uri``, or None when there is none (not materialized yet)."""
    from deltalake import DeltaTable

    options = storage_options(uri, s3)
    try:  # storage that does not answer, refused keys, a broken log: name the table
        if not DeltaTable.is_deltatable(uri, storage_options=options):
            return None
        return DeltaTable(uri, storage_options=options)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RuntimeError(f"{uri}: its Delta log cannot be read ({first})") from exc


def table_summary(uri: str, date_column: str | None, s3: S3Settings) -> TableSummary | None:
    """Version, rows, dates present and newest commit of the table at ``uri`` (None when there
    is no table there), from its log: the rows from the active files' statistics (as Delta
    answers a plain count; a file written without them has its rows counted from its Parquet
    footer), the dates from their partition values (a daily table is partitioned by its date
    column, and a day without rows has no file)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = _open(uri, s3)
    if table is None:
        return None
    files = pa.table(table.get_add_actions(flatten=True))
    counts = files.column("num_records")
    rows = (
        int(pc.sum(counts).as_py() or 0)
        if counts.null_count == 0
        else table.to_pyarrow_dataset().count_rows()
    )
    days: list[dt.date] = []
    if date_column:
        values = files.column(f"partition.{date_column}").unique().to_pylist()
        days = sorted(v if isinstance(v, dt.date) else dt.date.fromisoformat(v) for v in values)
    [newest] = table.history(1)
    return TableSummary(
        path=uri,
        version=table.version(),
        updated=dt.datetime.fromtimestamp(newest["timestamp"] / 1000),
        rows=rows,
        dates=len(days) if date_column else None,
        first=days[0] if days else None,
        last=days[-1] if days else None,
    )


def day_rows(uri: str, date_column: str, day: dt.date, columns: list[str], s3: S3Settings) -> Any:
    """``columns`` of the rows of ``day`` in the daily table at ``uri``, as a pyarrow Table
    (only that day's partition is read); None when there is no table there."""
    table = _open(uri, s3)
    if table is None:
        return None
    return table.to_pyarrow_table(partitions=[(date_column, "=", day.isoformat())], columns=columns)
