"""Bronze ingestion: rows as received, and landing files that cannot be read are named."""

import datetime as dt
import gzip
from pathlib import Path

import pytest

from jobs.io import sources
from jobs.transforms import bronze
from jobs.transforms.bronze import FLIGHTS_COLUMNS, LandingFileError

HEADER = ",".join(FLIGHTS_COLUMNS)
ROW = "2013,1,1,517,515,2,830,819,11,UA,1545,N14228,EWR,IAH,227,1400,5,15,2013-01-01T10:00:00Z"


def drop(folder: Path, day: str, content: bytes, compress: bool = True) -> str:
    path = folder / f"{day}.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(content) if compress else content)
    return str(path)


def ingest(spark, files):
    lines = sources.read_landing_lines(spark, files, FLIGHTS_COLUMNS)
    rows = bronze.to_bronze(lines, FLIGHTS_COLUMNS, "flight_date", dt.datetime(2026, 1, 1))
    return rows.orderBy("_source_file", "_row_number").collect()


def test_rows_arrive_as_strings_with_file_line_and_day(spark, tmp_path):
    file = drop(tmp_path, "2013-01-01", f"{HEADER}\n{ROW}\n{ROW.replace('1545', '7')}\n".encode())
    rows = ingest(spark, [file])
    assert [(r["flight"], r["_row_number"]) for r in rows] == [("1545", 2), ("7", 3)]
    assert rows[0]["dep_delay"] == "2" and rows[0]["_corrupt_record"] is None
    assert rows[0]["flight_date"] == dt.date(2013, 1, 1)
    assert rows[0]["_source_file"].endswith("/2013-01-01.csv.gz")


def test_a_header_only_file_is_a_day_without_rows(spark, tmp_path):
    assert ingest(spark, [drop(tmp_path, "2013-12-31", f"{HEADER}\n".encode())]) == []


def test_a_line_with_the_wrong_field_count_keeps_its_raw_text(spark, tmp_path):
    file = drop(tmp_path, "2013-01-01", f"{HEADER}\n{ROW},extra\n2013,1,1\n".encode())
    rows = ingest(spark, [file])
    assert [r["_corrupt_record"] for r in rows] == [f"{ROW},extra", "2013,1,1"]


def problems(spark, files):
    with pytest.raises(LandingFileError) as caught:
        ingest(spark, files)
    return str(caught.value)


def test_a_wrong_header_names_the_file_and_line_1(spark, tmp_path):
    good = drop(tmp_path, "2013-01-01", f"{HEADER}\n{ROW}\n".encode())
    reordered = ",".join(["month", "year", *FLIGHTS_COLUMNS[2:]])
    bad = drop(tmp_path, "2013-01-02", f"{reordered}\n{ROW}\n".encode())
    message = problems(spark, [good, bad])
    assert f"{bad}, line 1: wrong header" in message
    assert good not in message


def test_bytes_that_are_not_utf8_name_the_line(spark, tmp_path):
    content = f"{HEADER}\n{ROW}\n".encode() + ROW.replace("EWR", "EW\xff").encode("latin-1") + b"\n"
    bad = drop(tmp_path, "2013-01-01", content)
    assert f"{bad}, line 3: bytes that are not valid UTF-8" in problems(spark, [bad])


def test_an_empty_file_is_named(spark, tmp_path):
    bad = drop(tmp_path, "2013-01-01", b"", compress=False)
    assert f"{bad}: empty file" in problems(spark, [bad])


def test_a_truncated_gzip_is_named(spark, tmp_path):
    whole = gzip.compress(f"{HEADER}\n{ROW}\n".encode() * 50)
    bad = drop(tmp_path, "2013-01-01", whole[: len(whole) // 2], compress=False)
    message = problems(spark, [bad])
    assert "2013-01-01.csv.gz" in message and "truncated or corrupt gzip" in message


def test_a_missing_drop_is_named(spark, tmp_path):
    absent = str(tmp_path / "2013-01-05.csv.gz")
    assert f"{absent}: file is missing" in problems(spark, [absent])


def test_daily_files_cover_the_range_inclusive():
    files = sources.daily_files(
        "s3a://b/landing/flights", dt.date(2013, 2, 27), dt.date(2013, 3, 1)
    )
    assert files == [
        "s3a://b/landing/flights/2013-02-27.csv.gz",
        "s3a://b/landing/flights/2013-02-28.csv.gz",
        "s3a://b/landing/flights/2013-03-01.csv.gz",
    ]
