"""Table maintenance: OPTIMIZE (Z-order or compaction) and VACUUM of every Delta table.

Daily writes already keep one file per day (a range is repartitioned by its date column),
so what grows is history: each rerun of a day leaves the replaced file on storage until
VACUUM, and each dimension MERGE adds files. OPTIMIZE rewrites a range's files Z-ordered on
the registry's ``zorder_by`` columns (data skipping for queries that filter on them) or
compacts them; VACUUM then deletes what no version within the configured retention reads.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from pyspark.sql import SparkSession

from jobs.io import delta_io
from jobs.settings import Settings
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


def maintain_table(
    spark: SparkSession,
    settings: Settings,
    table: Table,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Maintained:
    """OPTIMIZE ``[start, end]`` of a daily table (all of it without a range; a dimension
    whole, compacted), then VACUUM it with the configured retention."""
    began = time.monotonic()
    path = settings.table_uri(*table.path)
    where = None
    if table.date_column and start and end:
        where = delta_io.range_predicate(table.date_column, start, end)
    before = len(delta_io.active_files(spark, path))
    removed, _ = delta_io.optimize(spark, path, where, table.zorder_by)
    delta_io.vacuum(spark, path, settings.maintenance.vacuum_retention_hours)
    return Maintained(
        table=table.key,
        files_before=before,
        files_after=len(delta_io.active_files(spark, path)),
        files_rewritten=removed,
        stored_after=stored_files(spark, path),
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
