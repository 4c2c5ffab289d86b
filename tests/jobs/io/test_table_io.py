"""The one write path: registered tables written as the registry says, with one record."""

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from jobs.io import delta_io, delta_log, table_io
from jobs.tables import table

D1, D2 = dt.date(2013, 1, 1), dt.date(2013, 1, 2)


def routes(spark, rows):
    return spark.createDataFrame(
        rows, "flight_date DATE, origin STRING, dest STRING, carrier STRING, flights INT"
    )


def airlines(spark, rows):
    return spark.createDataFrame(rows, "carrier STRING, name STRING")


def test_a_daily_table_replaces_its_range_and_reports_the_commit(spark, settings):
    route_daily = table("gold/route_daily")
    first = routes(spark, [(D1, "JFK", "LAX", "AA", 3), (D2, "JFK", "SFO", "UA", 2)])
    table_io.write_table(settings, route_daily, first, D1, D2)
    written = table_io.write_table(
        settings, route_daily, routes(spark, [(D2, "EWR", "ORD", "UA", 5)]), D2, D2
    )
    assert (written.table, written.rows, written.delta_version) == ("gold/route_daily", 1, 1)
    assert (written.operation, written.partition_range) == ("WRITE", "2013-01-02..2013-01-02")
    assert written.uri == settings.table_uri("gold", "route_daily")
    assert ("flight_date", "date") in written.columns and written.rows_total is None
    back = table_io.read_input(spark, settings, route_daily, D1, D2)
    assert sorted((r.flight_date, r.dest) for r in back.collect()) == [(D1, "LAX"), (D2, "ORD")]


def test_a_daily_table_needs_its_range(spark, settings):
    with pytest.raises(ValueError, match="gold/route_daily is written by date range"):
        table_io.write_table(settings, table("gold/route_daily"), routes(spark, []))


def test_a_dimension_is_merged_on_its_key_and_an_unchanged_one_makes_no_commit(spark, settings):
    dimension = table("silver/airlines")
    table_io.write_table(settings, dimension, airlines(spark, [("AA", "American")]))
    merged = table_io.write_table(
        settings, dimension, airlines(spark, [("AA", "American Airlines"), ("UA", "United")])
    )
    assert (merged.operation, merged.rows, merged.rows_total) == ("MERGE", 2, 2)
    again = table_io.write_table(
        settings, dimension, airlines(spark, [("AA", "American Airlines"), ("UA", "United")])
    )
    assert (again.operation, again.rows, again.delta_version) == ("UNCHANGED", 0, 1)


def test_a_missing_input_says_what_to_materialize(spark, settings):
    with pytest.raises(FileNotFoundError, match="gold/flight_features has no Delta table"):
        table_io.read_input(spark, settings, table("gold/flight_features"), D1, D1)


def test_the_metadata_of_a_write_is_typed_for_dagster_and_pipes(spark, settings):
    written = table_io.write_table(
        settings, table("silver/planes"),
        spark.createDataFrame([("N1", 2001)], "tailnum STRING, year_built INT"),
    )  # fmt: skip
    meta = table_io.write_metadata(written)
    assert meta["dagster/row_count"] == {"raw_value": 1, "type": "int"}
    assert meta["rows_total"] == {"raw_value": 1, "type": "int"}
    assert meta["dagster/column_schema"]["raw_value"]["columns"][0] == {
        "name": "tailnum", "type": "string",
    }  # fmt: skip
    assert meta["spark_plan"]["type"] == "md" and "Physical Plan" in meta["spark_plan"]["raw_value"]
    assert "partition_range" not in meta and "build_seconds" not in meta
    timed = table_io.write_metadata(dataclasses.replace(written, build_seconds=1.5))
    assert timed["build_seconds"] == {"raw_value": 1.5, "type": "float"}


def file_statistics(uri: str, version: int) -> list[dict]:
    """The statistics of the files commit ``version`` of the local table ``uri`` added."""
    log = Path(uri.removeprefix("file:"), "_delta_log", f"{version:020d}.json")
    actions = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [json.loads(a["add"]["stats"]) for a in actions if "add" in a]


def test_files_keep_statistics_only_on_the_columns_queries_filter_by(spark, settings):
    """A dimension's files keep statistics on its merge key; delay_predictions, read by whole
    days, keep their row counts only (a Z-ordered table: the next test). Rows are still
    counted from the statistics."""
    rows = routes(spark, [(D1, "JFK", "LAX", "AA", 3), (D1, "EWR", "SFO", "UA", 2)])
    airports = spark.createDataFrame(
        [("JFK", "Kennedy"), ("EWR", "Newark")], "faa STRING, name STRING"
    )
    for key, frame, covered in (
        ("ml/delay_predictions", rows, set()),
        ("silver/airports", airports, {"faa"}),
    ):
        written = table_io.write_table(settings, table(key), frame, D1, D1)
        files = file_statistics(written.uri, written.delta_version)
        assert sum(stats["numRecords"] for stats in files) == 2
        for stats in files:
            assert set(stats.get("minValues", {})) == set(stats.get("nullCount", {})) == covered
        summary = delta_log.table_summary(written.uri, None, settings.s3)
        assert summary is not None and summary.rows == 2


def test_a_table_made_before_gets_the_registered_statistics_once_at_its_next_write(spark, settings):
    silver_flights = table("silver/flights")  # Z-ordered by carrier and origin
    path = settings.table_uri("silver", "flights")
    rows = routes(spark, [(D1, "JFK", "LAX", "AA", 3)])
    delta_io.write_range(rows, path, "flight_date", D1, D1)  # as the project wrote it before
    (before,) = file_statistics(path, 0)
    assert set(before["minValues"]) == {"origin", "dest", "carrier", "flights"}

    first = table_io.write_table(settings, silver_flights, rows, D1, D1)
    again = table_io.write_table(settings, silver_flights, rows, D1, D1)

    history = [c.operation for c in delta_io.commits(spark, path, newest=10)]
    assert history == ["WRITE", "WRITE", "SET TBLPROPERTIES", "WRITE"]  # newest first
    (after,) = file_statistics(path, first.delta_version)
    assert set(after["minValues"]) == {"carrier", "origin"}
    assert again.delta_version == first.delta_version + 1  # no second property commit
