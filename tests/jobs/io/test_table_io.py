"""The one write path: registered tables written as the registry says, with one record."""

import dataclasses
import datetime as dt

import pytest

from jobs.io import table_io
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
