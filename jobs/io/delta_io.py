"""The one Delta reader and writer.

Daily tables are partitioned by their date column. Writing a date range replaces exactly
that range in one Delta commit (``replaceWhere``), so a rerun of any range leaves the
table identical and readers never see half a range. Dimensions are kept current with
``MERGE`` on their key.

Concurrent writers: Delta commits optimistically. Two runs writing disjoint date ranges
both commit; when another writer committed a conflicting change (an overlapping range, a
merge into the same rows) after a write took its snapshot, Delta refuses the later commit
and the write is made again from the new snapshot (at most ``COMMIT_ATTEMPTS`` times).
Replacing a range and merging a snapshot are idempotent, so the retried write leaves what
a write after the other one would have: nothing is lost or duplicated.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from delta.tables import DeltaTable
from py4j.protocol import Py4JJavaError
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.sql import identifier, string_literal
from jobs.tables import INDEXED_COLUMNS, STATS_COLUMNS

log = logging.getLogger(__name__)
T = TypeVar("T")

# What Delta raises when a commit conflicts with one made since the write's snapshot.
CONFLICTS = (
    "ConcurrentAppendException", "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException", "ConcurrentWriteException",
    "ConcurrentTransactionException", "MetadataChangedException", "ProtocolChangedException",
)  # fmt: skip
COMMIT_ATTEMPTS = 3
RETRY_SECONDS = 2.0


class ConcurrentWriteError(RuntimeError):
    """Other writers won every attempt to commit; nothing of this write was committed."""


def committed(path: str, write: Callable[[], T]) -> T:
    """Run ``write``; when Delta refuses its commit for a conflicting concurrent commit,
    run it again from the table's new snapshot."""
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            return write()
        except Exception as exc:
            text = f"{type(exc).__name__}: {exc}"
            conflict = next((name for name in CONFLICTS if name in text), None)
            if conflict is None:
                raise
            if attempt == COMMIT_ATTEMPTS:
                raise ConcurrentWriteError(
                    f"{path}: another writer committed a conflicting change before each of "
                    f"{COMMIT_ATTEMPTS} attempts ({conflict}); nothing was committed, rerun it"
                ) from exc
            log.warning(f"{path}: {conflict}, writing again from the new snapshot ({attempt})")
            time.sleep(RETRY_SECONDS * attempt)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class WriteResult:
    """What one commit did: where, which version, how many rows it wrote."""

    path: str
    version: int
    operation: str
    rows_written: int
    metrics: dict[str, str]


def range_predicate(date_column: str, start: dt.date, end: dt.date) -> str:
    """SQL predicate selecting ``[start, end]`` of ``date_column``."""
    column = identifier(date_column)
    return (
        f"{column} >= {string_literal(start.isoformat())} "
        f"AND {column} <= {string_literal(end.isoformat())}"
    )


def write_range(
    df: DataFrame,
    path: str,
    date_column: str,
    start: dt.date,
    end: dt.date,
    properties: Mapping[str, str] | None = None,
) -> WriteResult:
    """Replace the rows of ``[start, end]`` with ``df`` in one commit; a write that creates
    the table gives it the table ``properties`` (an existing one: :func:`set_properties`).

    Delta refuses the commit if a row of ``df`` lies outside the range, so a bug can
    never overwrite a neighbouring day.
    """
    writer = (
        df.repartition(date_column)  # one file per day
        .write.format("delta")
        .mode("overwrite")
        .option("replaceWhere", range_predicate(date_column, start, end))
        .partitionBy(date_column)
        .options(**(properties or {}))
    )
    committed(path, lambda: writer.save(path))
    return last_commit(df.sparkSession, path)


def merge_on_key(
    df: DataFrame,
    path: str,
    key: tuple[str, ...],
    user_metadata: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> WriteResult:
    """Upsert ``df`` into the table at ``path`` on ``key``; create the table if absent,
    with the table ``properties``.

    Rows whose values did not change are left alone; when nothing changed, no commit is
    made and the returned result is the table's current version. ``user_metadata`` is
    recorded in the commit's info (``commit_metadata`` reads it back).
    """
    return committed(path, lambda: _merge(df, path, key, user_metadata, properties or {}))


def _merge(
    df: DataFrame,
    path: str,
    key: tuple[str, ...],
    user_metadata: str | None,
    properties: Mapping[str, str],
) -> WriteResult:
    spark = df.sparkSession
    if not DeltaTable.isDeltaTable(spark, path):
        writer = df.write.format("delta").mode("overwrite").options(**properties)
        if user_metadata:
            writer = writer.option("userMetadata", user_metadata)
        writer.save(path)
        return last_commit(spark, path)
    target = DeltaTable.forPath(spark, path)
    # Only new or changed rows take part, so an unchanged snapshot makes no commit at all.
    changes = df.subtract(target.toDF().select(*df.columns))
    if changes.isEmpty():
        return replace(last_commit(spark, path), operation="UNCHANGED", rows_written=0, metrics={})
    on = " AND ".join(f"t.{identifier(k)} = s.{identifier(k)}" for k in key)
    merge = (
        target.alias("t")
        .merge(changes.alias("s"), on)
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
    )
    if user_metadata:  # a MERGE takes commit info from the session only
        spark.conf.set(_USER_METADATA, user_metadata)
    try:
        merge.execute()
    finally:
        spark.conf.unset(_USER_METADATA)
    return last_commit(spark, path)


_USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"


def set_properties(spark: SparkSession, path: str, properties: Mapping[str, str]) -> bool:
    """Give the existing table at ``path`` the table ``properties`` it lacks, and drop the
    statistics properties it has that ``properties`` leaves out (Delta keeps a write's
    options as properties only when it creates the table). A metadata commit, once per
    change: later calls find them set. False when nothing was committed (no table yet, or
    nothing to change). Two writers changing them at once: the later one looks again."""
    return committed(path, lambda: _set_properties(spark, path, properties))


def _set_properties(spark: SparkSession, path: str, properties: Mapping[str, str]) -> bool:
    snapshot = _snapshot(spark, path)
    if snapshot.version() < 0:
        return False
    jvm: Any = spark.sparkContext._jvm
    configuration = snapshot.metadata().configuration()  # a Scala map
    current = dict(jvm.scala.collection.JavaConverters.mapAsJavaMap(configuration))
    stale = [k for k in STATISTICS_PROPERTIES if k in current and k not in properties]
    missing = {k: v for k, v in properties.items() if current.get(k) != v}
    table = f"delta.{identifier(path)}"
    if stale:
        keys = ", ".join(map(string_literal, stale))
        spark.sql(f"ALTER TABLE {table} UNSET TBLPROPERTIES ({keys})")
    if missing:
        pairs = ", ".join(f"{string_literal(k)} = {string_literal(v)}" for k, v in missing.items())
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ({pairs})")
    return bool(stale or missing)


# Which columns a file's statistics cover (jobs.tables.Table.delta_properties).
STATISTICS_PROPERTIES = (STATS_COLUMNS, INDEXED_COLUMNS)

# Commits that leave the table's rows as they were: maintenance (jobs/io/maintenance.py)
# and a change of table properties (set_properties).
ROWS_KEPT = ("OPTIMIZE", "VACUUM START", "VACUUM END", "SET TBLPROPERTIES", "UNSET TBLPROPERTIES")
# How far back commit_metadata looks past them (a week of maintenance makes three).
_LOOKBACK = 12


@dataclass(frozen=True)
class Commit:
    """One commit of a table: its version and its ``commitInfo`` action."""

    version: int
    info: dict[str, Any]

    @property
    def operation(self) -> str:
        return str(self.info.get("operation", ""))

    @property
    def metrics(self) -> dict[str, str]:
        return dict(self.info.get("operationMetrics") or {})

    @property
    def user_metadata(self) -> str | None:
        return self.info.get("userMetadata")


def _snapshot(spark: SparkSession, path: str) -> Any:
    """The table's newest JVM ``Snapshot``, from its ``DeltaLog`` brought up to date (what
    ``history()`` starts from)."""
    jvm: Any = spark.sparkContext._jvm
    log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    none = jvm.scala.Option.empty()
    return log.update(False, none, none)  # (stalenessAcceptable, checkIfUpdatedSinceTs, table)


def commits(spark: SparkSession, path: str, newest: int = 1, snapshot: Any = None) -> list[Commit]:
    """The table's newest ``newest`` commits, newest first, read from their files in
    ``_delta_log`` (the protocol's commit files; their ``commitInfo`` is what ``history()``
    shows): a history query plans and runs a Spark query per call, 0.15-0.35 s each in the
    young JVM of a small run, against about 0.01 s (read by :func:`_log_file`). Stops at a
    commit file that log cleanup removed."""
    snapshot = snapshot if snapshot is not None else _snapshot(spark, path)
    version = snapshot.version()
    found = []
    for v in range(version, max(version - newest, -1), -1):
        text = _log_file(spark, snapshot, f"{v:020d}.json")
        if text is None:
            break
        actions = (json.loads(line) for line in text.splitlines() if line.strip())
        info: dict[str, Any] = next((a["commitInfo"] for a in actions if "commitInfo" in a), {})
        found.append(Commit(v, info))
    return found


def row_count(spark: SparkSession, path: str) -> int:
    """Rows in the table's current version. Delta writes a checksum file beside each commit
    (``<version>.crc``) and, for a table of few files (a dimension), lists the active files
    in it with their statistics: their row counts are summed without a Spark job, where a
    count plans and runs a query over the log in the young JVM of a small run (0.5-1 s).
    Counted by reading the table when the checksum, its file list or a file's statistics is
    missing, or a file has deletion vectors."""
    counted = _rows_in_checksum(spark, _snapshot(spark, path))
    return counted if counted is not None else read_table(spark, path).count()


def _rows_in_checksum(spark: SparkSession, snapshot: Any) -> int | None:
    """The rows of ``snapshot``'s checksum file list, None when it cannot tell."""
    text = _log_file(spark, snapshot, f"{snapshot.version():020d}.crc")
    files = None if text is None else json.loads(text).get("allFiles")
    if files is None:
        return None
    rows = 0
    for add in files:
        stats = json.loads(add.get("stats") or "{}")
        if "numRecords" not in stats or add.get("deletionVector"):
            return None
        rows += int(stats["numRecords"])
    return rows


def _log_file(spark: SparkSession, snapshot: Any, name: str) -> str | None:
    """The text of ``_delta_log/<name>`` of ``snapshot``'s table, read through the table's
    log store as Delta reads it (S3DynamoDBLogStore completes a commit another writer left
    half-copied); None when the file does not exist (log cleanup removed it, or Delta did not
    write it)."""
    jvm: Any = spark.sparkContext._jvm
    log = snapshot.deltaLog()
    file = jvm.org.apache.hadoop.fs.Path(log.logPath(), name)
    try:
        return str(log.store().read(file, log.newDeltaHadoopConf()).mkString("\n"))
    except Py4JJavaError as exc:
        if "FileNotFoundException" in str(exc.java_exception):
            return None
        raise


def _newest_row_commit(spark: SparkSession, path: str, snapshot: Any = None) -> Commit | None:
    """The newest commit that wrote rows, within the last ``_LOOKBACK`` commits."""
    recent = commits(spark, path, _LOOKBACK, snapshot)
    return next((c for c in recent if c.operation not in ROWS_KEPT), None)


def commit_metadata(spark: SparkSession, path: str) -> str | None:
    """The user metadata of the table's newest commit that wrote rows, looking past
    maintenance commits (None: no table, none recorded, or none within the last commits)."""
    if not DeltaTable.isDeltaTable(spark, path):
        return None
    commit = _newest_row_commit(spark, path)
    return None if commit is None else commit.user_metadata


def last_commit(spark: SparkSession, path: str) -> WriteResult:
    """The newest commit of a table, with its operation metrics."""
    [commit] = commits(spark, path)
    metrics = commit.metrics
    written = metrics.get("numOutputRows") or metrics.get("numTargetRowsInserted", "0")
    if commit.operation == "MERGE":
        written = str(
            int(metrics.get("numTargetRowsInserted", 0))
            + int(metrics.get("numTargetRowsUpdated", 0))
        )
    return WriteResult(path, commit.version, commit.operation, int(written), metrics)


def table_identity(spark: SparkSession, path: str) -> str:
    """The table's id and the version of its newest commit that wrote rows (maintenance
    commits aside), ``<id>@v<version>``: two reads with the same identity see the same rows
    (the id changes when a table is recreated at the path)."""
    snapshot = _snapshot(spark, path)
    newest = _newest_row_commit(spark, path, snapshot)
    version = snapshot.version() if newest is None else newest.version
    return f"{snapshot.metadata().id()}@v{version}"


def is_table(spark: SparkSession, path: str) -> bool:
    """Whether a Delta table exists at ``path``."""
    return DeltaTable.isDeltaTable(spark, path)


def read_table(spark: SparkSession, path: str) -> DataFrame:
    """The current version of the table at ``path``."""
    return spark.read.format("delta").load(path)


def read_range(
    spark: SparkSession, path: str, date_column: str, start: dt.date, end: dt.date
) -> DataFrame:
    """Rows of ``[start, end]`` (partition pruning keeps this to those days' files)."""
    return read_table(spark, path).where(F.expr(range_predicate(date_column, start, end)))


def files_per_partition(files: list[str], column: str) -> Counter[str]:
    """Data files per value of the partition ``column``, from the files' paths."""
    marker = f"/{column}="
    return Counter(f.split(marker, 1)[1].split("/", 1)[0] for f in files if marker in f)


def optimize(
    spark: SparkSession, path: str, where: str | None, zorder_by: tuple[str, ...]
) -> tuple[int, int]:
    """OPTIMIZE the files selected by ``where`` (all when None): Z-order them on
    ``zorder_by``, or compact small files when empty. Returns (files removed, added)."""
    builder = DeltaTable.forPath(spark, path).optimize()
    if where:
        builder = builder.where(where)
    done = builder.executeZOrderBy(*zorder_by) if zorder_by else builder.executeCompaction()
    row = done.select("metrics.numFilesRemoved", "metrics.numFilesAdded").first()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def vacuum(spark: SparkSession, path: str, retention_hours: int) -> None:
    """Delete the files no version within ``retention_hours`` reads. Below Delta's 168-hour
    safety check the check is lifted for this call only: the configured retention is the
    operator's decision."""
    check = "spark.databricks.delta.retentionDurationCheck.enabled"
    # VACUUM lists the table's folders in a job of this many tasks, 10,000 by default: a
    # minute of empty tasks on a small table. The shuffle partitions are this session's
    # measure of the work one stage deserves (2 in tests, 200 on EMR).
    listing = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
    before = str(spark.conf.get(listing))
    spark.conf.set(listing, str(spark.conf.get("spark.sql.shuffle.partitions")))
    if retention_hours < 168:
        spark.conf.set(check, "false")
    try:
        DeltaTable.forPath(spark, path).vacuum(float(retention_hours))
    finally:
        spark.conf.unset(check)
        spark.conf.set(listing, before)


def active_files(spark: SparkSession, path: str) -> list[str]:
    """The data files the current version reads, from the Delta log."""
    return list(read_table(spark, path).inputFiles())
