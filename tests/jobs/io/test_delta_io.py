"""The Delta writer: a range is replaced atomically and idempotently; dimensions merge."""

import datetime as dt

import pytest
from chispa import assert_df_equality
from delta.tables import DeltaTable

from jobs.io import delta_io
from jobs.tables import INDEXED_COLUMNS, STATS_COLUMNS

D1, D2, D3 = dt.date(2013, 1, 1), dt.date(2013, 1, 2), dt.date(2013, 1, 3)
SCHEMA = "flight_date DATE, id INT, value STRING"


def frame(spark, rows):
    return spark.createDataFrame(rows, SCHEMA)


def test_writing_a_range_replaces_only_that_range(spark, tmp_path):
    path = str(tmp_path / "t")
    delta_io.write_range(
        frame(spark, [(D1, 1, "a"), (D2, 2, "b"), (D3, 3, "c")]), path, "flight_date", D1, D3
    )
    result = delta_io.write_range(frame(spark, [(D2, 20, "new")]), path, "flight_date", D2, D2)
    assert result.version == 1 and result.rows_written == 1
    assert_df_equality(
        delta_io.read_table(spark, path),
        frame(spark, [(D1, 1, "a"), (D2, 20, "new"), (D3, 3, "c")]),
        ignore_row_order=True,
        ignore_column_order=True,
    )


def test_rewriting_a_range_leaves_the_same_rows(spark, tmp_path):
    path = str(tmp_path / "t")
    rows = frame(spark, [(D1, 1, "a"), (D2, 2, "b")])
    delta_io.write_range(rows, path, "flight_date", D1, D2)
    delta_io.write_range(rows, path, "flight_date", D1, D2)
    assert_df_equality(
        delta_io.read_table(spark, path), rows, ignore_row_order=True, ignore_column_order=True
    )
    assert delta_io.last_commit(spark, path).version == 1


def test_a_row_outside_the_range_fails_the_commit_and_changes_nothing(spark, tmp_path):
    path = str(tmp_path / "t")
    delta_io.write_range(frame(spark, [(D1, 1, "a")]), path, "flight_date", D1, D1)
    with pytest.raises(Exception, match=r"(?i)replaceWhere|does not conform|violate"):
        delta_io.write_range(
            frame(spark, [(D1, 1, "x"), (D3, 3, "c")]), path, "flight_date", D1, D1
        )
    assert delta_io.last_commit(spark, path).version == 0
    assert [r["value"] for r in delta_io.read_table(spark, path).collect()] == ["a"]


def test_read_range_returns_only_the_range(spark, tmp_path):
    path = str(tmp_path / "t")
    delta_io.write_range(
        frame(spark, [(D1, 1, "a"), (D2, 2, "b"), (D3, 3, "c")]), path, "flight_date", D1, D3
    )
    assert sorted(
        r["id"] for r in delta_io.read_range(spark, path, "flight_date", D2, D3).collect()
    ) == [2, 3]


def test_merge_inserts_updates_and_skips_unchanged_snapshots(spark, tmp_path):
    path = str(tmp_path / "dim")
    schema = "tailnum STRING, seats INT"
    first = delta_io.merge_on_key(
        spark.createDataFrame([("N1", 50), ("N2", 100)], schema), path, ("tailnum",)
    )
    assert (first.version, first.rows_written) == (0, 2)
    same = delta_io.merge_on_key(
        spark.createDataFrame([("N1", 50), ("N2", 100)], schema), path, ("tailnum",)
    )
    assert (same.version, same.operation, same.rows_written) == (0, "UNCHANGED", 0)
    changed = spark.createDataFrame([("N1", 55), ("N2", 100), ("N3", 9)], schema)
    merged = delta_io.merge_on_key(changed, path, ("tailnum",))
    assert (merged.version, merged.operation, merged.rows_written) == (1, "MERGE", 2)
    assert_df_equality(delta_io.read_table(spark, path), changed, ignore_row_order=True)


def test_a_write_that_loses_a_commit_race_is_made_again_and_loses_nothing(spark, tmp_path, caplog):
    """A and B write overlapping ranges at once from the same snapshot (A computes slowly);
    the later commit conflicts (real Delta optimistic concurrency) and is made again."""
    import threading
    import time

    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType

    path = str(tmp_path / "t")
    delta_io.write_range(frame(spark, [(D1, 1, "v0"), (D2, 2, "v0"), (D3, 3, "v0")]), path,
                         "flight_date", D1, D3)  # fmt: skip

    @F.udf(StringType())
    def slowly(value: str) -> str:
        time.sleep(4)  # A is still computing when B commits
        return value

    a = frame(spark, [(D1, 1, "A"), (D2, 2, "A")]).withColumn("value", slowly("value"))
    outcome: list[object] = []
    writer = threading.Thread(
        target=lambda: outcome.append(delta_io.write_range(a, path, "flight_date", D1, D2))
    )
    with caplog.at_level("WARNING", logger="jobs.io.delta_io"):
        writer.start()
        time.sleep(2)
        delta_io.write_range(frame(spark, [(D2, 2, "B"), (D3, 3, "B")]), path, "flight_date",
                             D2, D3)  # fmt: skip
        writer.join()
    assert [r.levelname for r in caplog.records] == ["WARNING"]  # one conflict, one retry
    assert "writing again from the new snapshot" in caplog.records[0].message
    # Whichever writer lost the race wrote again after the winner: its rows hold the overlap.
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").orderBy("version").collect()
    assert [h["version"] for h in history] == [0, 1, 2]  # v0, the winner, the retried loser
    last = "A" if "2013-01-01" in history[2]["operationParameters"]["predicate"] else "B"
    assert_df_equality(
        delta_io.read_table(spark, path),
        frame(spark, [(D1, 1, "A"), (D2, 2, last), (D3, 3, "B")]),
        ignore_row_order=True,
        ignore_column_order=True,
    )


def test_commits_read_from_the_log_are_what_history_shows(spark, tmp_path):
    """The commit files' `commitInfo`, read directly, against Delta's own history query:
    a range write, a merge with user metadata and an OPTIMIZE."""
    from delta.tables import DeltaTable

    path = str(tmp_path / "t")
    delta_io.write_range(frame(spark, [(D1, 1, "a"), (D2, 2, "b")]), path, "flight_date", D1, D2)
    # a second file in the first day's partition, which OPTIMIZE then compacts
    delta_io.merge_on_key(frame(spark, [(D1, 3, "c")]), path, ("id",), user_metadata="snap-1")
    DeltaTable.forPath(spark, path).optimize().executeCompaction()
    history = DeltaTable.forPath(spark, path).history().collect()
    read = delta_io.commits(spark, path, newest=5)
    assert [c.version for c in read] == [h["version"] for h in history] == [2, 1, 0]
    for commit, row in zip(read, history, strict=True):
        assert commit.operation == row["operation"]
        assert commit.metrics == dict(row["operationMetrics"] or {})
        assert commit.user_metadata == row["userMetadata"]
    assert [c.operation for c in read] == ["OPTIMIZE", "MERGE", "WRITE"]
    assert read[1].user_metadata == "snap-1"
    assert delta_io.last_commit(spark, path).operation == "OPTIMIZE"
    assert delta_io.commit_metadata(spark, path) == "snap-1"  # past the maintenance commit
    table_id = DeltaTable.forPath(spark, path).detail().first()["id"]
    assert delta_io.table_identity(spark, path) == f"{table_id}@v1"


def test_reading_commits_stops_at_one_log_cleanup_removed(spark, tmp_path):
    path = str(tmp_path / "t")
    for value in ("a", "b", "c"):
        delta_io.write_range(frame(spark, [(D1, 1, value)]), path, "flight_date", D1, D1)
    snapshot = delta_io._snapshot(spark, path)  # as of version 2, before the cleanup
    (tmp_path / "t" / "_delta_log" / "00000000000000000000.json").unlink()
    read = delta_io.commits(spark, path, newest=5, snapshot=snapshot)
    assert [(c.version, c.operation) for c in read] == [(2, "WRITE"), (1, "WRITE")]


def test_a_dimensions_rows_are_counted_from_its_checksum_without_a_spark_job(spark, tmp_path):
    path = str(tmp_path / "dim")
    schema = "tailnum STRING, seats INT"
    delta_io.merge_on_key(
        spark.createDataFrame([("N1", 50), ("N2", 9)], schema), path, ("tailnum",)
    )
    changed = spark.createDataFrame([("N1", 55), ("N3", 7), ("N4", 8)], schema)
    delta_io.merge_on_key(changed, path, ("tailnum",))
    assert delta_io.row_count(spark, path) == delta_io.read_table(spark, path).count() == 4
    group, tracker = "row-count-test", spark.sparkContext.statusTracker()
    spark.sparkContext.setJobGroup(group, "row_count")
    try:
        assert delta_io.row_count(spark, path) == 4
        assert tracker.getJobIdsForGroup(group) == [], "row_count ran a Spark job"
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    # without its checksum file, the table itself is counted
    (crc,) = (tmp_path / "dim" / "_delta_log").glob("00000000000000000001.crc")
    crc.unlink()
    assert delta_io.row_count(spark, path) == 4


def test_properties_replace_the_statistics_setting_a_table_had(spark, tmp_path):
    path = str(tmp_path / "t")
    assert not delta_io.set_properties(spark, path, {STATS_COLUMNS: "id"})  # no table yet
    delta_io.write_range(frame(spark, [(D1, 1, "a")]), path, "flight_date", D1, D1,
                         {INDEXED_COLUMNS: "0"})  # fmt: skip
    assert delta_io.set_properties(spark, path, {STATS_COLUMNS: "id"})
    assert not delta_io.set_properties(spark, path, {STATS_COLUMNS: "id"})
    properties = DeltaTable.forPath(spark, path).detail().first()["properties"]
    assert properties == {STATS_COLUMNS: "id"}
    assert [c.operation for c in delta_io.commits(spark, path, newest=5)] == [
        "SET TBLPROPERTIES", "UNSET TBLPROPERTIES", "WRITE"
    ]  # fmt: skip
