"""The log read without Spark (`lakehouse status`): what it says a table holds is what
Spark reads from the same table."""

import datetime as dt

import pytest
from delta.tables import DeltaTable
from pyspark.sql import functions as F

from jobs.io import delta_io, delta_log
from jobs.settings import S3Settings

D1, D2, D3 = dt.date(2013, 1, 1), dt.date(2013, 1, 2), dt.date(2013, 1, 3)
SCHEMA = "flight_date DATE, id INT, value STRING"
LOCAL = S3Settings()


def frame(spark, rows):
    return spark.createDataFrame(rows, SCHEMA)


def spark_days(spark, path):
    table = delta_io.read_table(spark, path)
    return sorted(r[0] for r in table.select("flight_date").distinct().collect())


def test_the_summary_counts_rows_and_days_as_spark_reads_them(spark, tmp_path):
    path = str(tmp_path / "t")
    rows = [(D1, 1, "a"), (D1, 2, "b"), (D3, 3, "c")]
    delta_io.write_range(frame(spark, rows), path, "flight_date", D1, D3)
    delta_io.write_range(frame(spark, [(D3, 4, "d")]), path, "flight_date", D3, D3)

    summary = delta_log.table_summary(path, "flight_date", LOCAL)

    assert summary is not None
    assert summary.version == delta_io.last_commit(spark, path).version == 1
    assert summary.rows == delta_io.read_table(spark, path).count() == 3
    assert [summary.first, summary.last] == [D1, D3]
    assert summary.dates == len(spark_days(spark, path)) == 2
    # the commit's own time (commitInfo); Spark's history shows its file's: the same second
    [newest] = DeltaTable.forPath(spark, path).history(1).collect()
    assert abs((summary.updated - newest["timestamp"]).total_seconds()) < 2


def test_a_table_emptied_has_no_dates_and_a_dimension_none(spark, tmp_path):
    emptied = str(tmp_path / "empty")
    delta_io.write_range(frame(spark, []), emptied, "flight_date", D1, D1)
    summary = delta_log.table_summary(emptied, "flight_date", LOCAL)
    assert summary is not None and (summary.rows, summary.dates, summary.first) == (0, 0, None)

    dimension = str(tmp_path / "dimension")
    frame(spark, [(D1, 1, "a")]).drop("flight_date").write.format("delta").save(dimension)
    summary = delta_log.table_summary(dimension, None, LOCAL)
    assert summary is not None and (summary.rows, summary.dates, summary.last) == (1, None, None)


def test_no_table_is_none_and_a_broken_log_names_the_table(tmp_path, spark):
    assert delta_log.table_summary(str(tmp_path / "nothing"), "flight_date", LOCAL) is None
    path = tmp_path / "broken"
    delta_io.write_range(frame(spark, [(D1, 1, "a")]), str(path), "flight_date", D1, D1)
    (path / "_delta_log" / "00000000000000000000.json").write_text("{not json")
    with pytest.raises(RuntimeError, match=f"{path}: its Delta log cannot be read"):
        delta_log.table_summary(str(path), "flight_date", LOCAL)


def test_the_summary_reads_the_rows_of_files_written_without_statistics(spark, tmp_path):
    path = str(tmp_path / "t")
    delta_io.write_range(frame(spark, [(D1, 1, "a")]), path, "flight_date", D1, D1)
    spark.conf.set("spark.databricks.delta.stats.collect", "false")
    try:
        delta_io.write_range(
            frame(spark, [(D2, 2, "b"), (D2, 3, "c")]), path, "flight_date", D2, D2
        )
    finally:
        spark.conf.unset("spark.databricks.delta.stats.collect")
    summary = delta_log.table_summary(path, "flight_date", LOCAL)
    assert summary is not None
    assert (summary.rows, summary.dates, summary.last) == (3, 2, D2)
    assert delta_io.read_table(spark, path).where(F.col("flight_date") == D2).count() == 2


def test_object_storage_gets_the_endpoint_and_addressing_of_the_s3_settings():
    minio = S3Settings(endpoint="http://127.0.0.1:9000", path_style_access=True)
    assert delta_log.storage_options("s3a://bucket/gold/route_daily", minio) == {
        "AWS_REGION": "us-east-1",
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "false",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_ALLOW_HTTP": "true",
    }
    aws = S3Settings(region="eu-west-1")
    assert delta_log.storage_options("s3://bucket/t", aws) == {
        "AWS_REGION": "eu-west-1",
        "AWS_VIRTUAL_HOSTED_STYLE_REQUEST": "true",
    }
    assert delta_log.storage_options("/tmp/lakehouse/t", minio) == {}


def test_a_days_rows_are_that_partitions_rows_as_spark_reads_them(spark, tmp_path):
    path = str(tmp_path / "quarantine")
    rows = [(D1, ["duplicate"]), (D2, ["duplicate", "unknown_carrier"]), (D2, ["duplicate"])]
    written = spark.createDataFrame(rows, "flight_date DATE, reasons ARRAY<STRING>")
    delta_io.write_range(written, path, "flight_date", D1, D2)

    day = delta_log.day_rows(path, "flight_date", D2, ["reasons"], LOCAL)

    assert day is not None and day.column_names == ["reasons"]
    expected = delta_io.read_range(spark, path, "flight_date", D2, D2).collect()
    assert sorted(day.column("reasons").to_pylist()) == sorted(r["reasons"] for r in expected)
    assert delta_log.day_rows(path, "flight_date", D3, ["reasons"], LOCAL).num_rows == 0
    assert delta_log.day_rows(str(tmp_path / "none"), "flight_date", D2, ["reasons"], LOCAL) is None


def test_storage_that_does_not_answer_fails_naming_the_table(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    nowhere = S3Settings(endpoint="http://127.0.0.1:1", path_style_access=True)  # no server
    with pytest.raises(RuntimeError, match=r"^s3a://bucket/gold/t: its Delta log cannot be read"):
        delta_log.table_summary("s3a://bucket/gold/t", "flight_date", nowhere)
