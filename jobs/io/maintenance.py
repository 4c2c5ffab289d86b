"""Table maintenance: OPTIMIZE (Z-order or compaction) and VACUUM of every Delta table.

Daily writes already keep one file per day (a range is repartitioned by its date column),
so what grows is history: each rerun of a day leaves the replaced file on storage until
VACUUM, and each dimension MERGE adds files. OPTIMIZE rewrites the days of a range that span
several files, Z-ordered on the registry's ``zorder_by`` columns (data skipping for queries
that filter on them) or compacted; VACUUM then deletes what no version within the
configured retention reads, and is skipped when storage holds only the current files.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from pyspark.sql import SparkSession

from jobs.io import delta_io
from jobs.settings import Settings
from jobs.sql import identifier, string_literal
from jobs.tables import Table, delta_tables


@dataclass(frozen=True)
class Maintained:
    """What maintaining one table did."""

    table: str
    files_before: int  # data files the current version reads, before OPTIMIZE
    files_after: int
    files_rewritten: int  # removed by OPTIMIZE (still stored until VACUUM)
    stored_after: int  # data files on storage after VACUUM
    seconds: float

    def describe(self) -> str:
        return (
            f"{self.table:22} files {self.files_before:>5} -> {self.files_after:<5} "
            f"rewritten {self.files_rewritten:>5}  stored after vacuum {self.stored_after:>5}  "
            f"{self.seconds:.1f}s"
        )


def stored_files(spark: SparkSession, path: str) -> int:
    """Data files under the table's folder, current or not (the Delta log excluded)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    root = jvm.org.apache.hadoop.fs.Path(path)
    listing = root.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).listFiles(
        root, True
    )
    count = 0
    while listing.hasNext():
        name = listing.next().getPath().toString()
        count += name.endswith(".parquet") and "/_delta_log/" not in name
    return count


def crowded_days(files: list[str], table: Table, start: dt.date, end: dt.date) -> list[str]:
    """The days of ``[start, end]`` stored in more than one active file: the only ones
    OPTIMIZE changes. A day that is one file already gains nothing Delta can skip on (its
    statistics are per file), and Z-ordering it would rewrite it on every pass."""
    assert table.date_column, f"{table.key} has no date column"
    counts = delta_io.files_per_partition(files, table.date_column)
    return sorted(
        day
        for day, n in counts.items()
        if n > 1 and start.isoformat() <= day[:10] <= end.isoformat()
    )


def maintain_table(
    spark: SparkSession,
    settings: Settings,
    table: Table,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Maintained:
    """OPTIMIZE the days of ``[start, end]`` of a daily table that span several files (of
    all its days without a range; a dimension whole, compacted), then VACUUM it with the
    configured retention if storage holds more than the current files.

    The log is listed once: the files after OPTIMIZE follow from its metrics."""
    began = time.monotonic()
    path = settings.table_uri(*table.path)
    files = delta_io.active_files(spark, path)
    removed = added = 0
    if table.date_column:
        first, last = start or dt.date.min, end or dt.date.max
        days = crowded_days(files, table, first, last)
        if days:
            quoted = ", ".join(string_literal(day) for day in days)
            where = f"{identifier(table.date_column)} IN ({quoted})"
            removed, added = delta_io.optimize(spark, path, where, table.zorder_by)
    elif len(files) > 1:
        removed, added = delta_io.optimize(spark, path, None, table.zorder_by)
    after = len(files) - removed + added
    stored = stored_files(spark, path)
    if stored > after:  # replaced files on storage: VACUUM deletes those past retention
        delta_io.vacuum(spark, path, settings.maintenance.vacuum_retention_hours)
        stored = stored_files(spark, path)
    return Maintained(
        table=table.key,
        files_before=len(files),
        files_after=after,
        files_rewritten=removed,
        stored_after=stored,
        seconds=round(time.monotonic() - began, 2),
    )


def maintain(
    spark: SparkSession,
    settings: Settings,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[Maintained]:
    """Maintain every Delta table that exists, in registry order."""
    return [
        maintain_table(spark, settings, t, start, end)
        for t in delta_tables()
        if delta_io.is_table(spark, settings.table_uri(*t.path))
    ]
