"""Table maintenance keeps files bounded: one per day after a backfill and after reruns,
dimension merges compacted, replaced files deleted by VACUUM; counted from the Delta log."""

import dataclasses
import datetime as dt
from collections import Counter

import pytest

from jobs.io import delta_io, maintenance
from jobs.settings import MaintenanceSettings
from jobs.tables import table

pytestmark = pytest.mark.slow  # a year of daily files and 30 reruns
ROUTES = table("gold/route_daily")
AIRLINES = table("silver/airlines")
YEAR = [dt.date(2013, 1, 1) + dt.timedelta(days=n) for n in range(365)]


@pytest.fixture(scope="module")
def no_retention(settings):
    return settings.model_copy(
        update={"maintenance": MaintenanceSettings(vacuum_retention_hours=0)}
    )


def files_per_day(spark, path):
    return Counter(f.split("flight_date=")[1][:10] for f in delta_io.active_files(spark, path))


def route_days(spark, days, flights=1):
    rows = [(d, o, "ORD", flights) for d in days for o in ("EWR", "JFK", "LGA")]
    return spark.createDataFrame(rows, "flight_date DATE, origin STRING, dest STRING, flights INT")


def test_a_backfill_and_30_reruns_keep_one_file_per_day_and_vacuum_deletes_the_rest(
    spark, no_retention
):
    path = no_retention.table_uri(*ROUTES.path)
    delta_io.write_range(route_days(spark, YEAR), path, "flight_date", YEAR[0], YEAR[-1])
    assert set(files_per_day(spark, path).values()) == {1}
    day = YEAR[100]
    for rerun in range(30):
        delta_io.write_range(route_days(spark, [day], rerun), path, "flight_date", day, day)
    assert files_per_day(spark, path)[day.isoformat()] == 1
    assert maintenance.stored_files(spark, path) == 365 + 30  # replaced files stay until VACUUM

    done = maintenance.maintain_table(spark, no_retention, ROUTES, day, day)
    assert (done.files_before, done.files_after, done.files_rewritten) == (365, 365, 0)
    assert done.stored_after == 365
    assert set(files_per_day(spark, path).values()) == {1}
    assert delta_io.read_range(spark, path, "flight_date", day, day).count() == 3  # rows kept


def test_only_days_in_several_files_are_rewritten_and_only_within_the_range(spark, no_retention):
    appended = dataclasses.replace(ROUTES, name="route_daily_appended")
    path = no_retention.table_uri(*appended.path)
    delta_io.write_range(route_days(spark, YEAR[:10]), path, "flight_date", YEAR[0], YEAR[9])
    for day in (YEAR[2], YEAR[8]):  # an append adds a second file to each of these days
        extra = route_days(spark, [day]).where("origin = 'EWR'")
        extra.write.format("delta").mode("append").partitionBy("flight_date").save(path)
    assert files_per_day(spark, path)[YEAR[2].isoformat()] == 2

    done = maintenance.maintain_table(spark, no_retention, appended, YEAR[0], YEAR[5])
    assert (done.files_before, done.files_after, done.files_rewritten) == (12, 11, 2)
    assert done.stored_after == 11  # the two merged files deleted by VACUUM
    counts = files_per_day(spark, path)
    assert (counts[YEAR[2].isoformat()], counts[YEAR[8].isoformat()]) == (1, 2)
    assert delta_io.read_range(spark, path, "flight_date", YEAR[2], YEAR[2]).count() == 4


def test_dimension_merges_are_compacted(spark, no_retention):
    path = no_retention.table_uri(*AIRLINES.path)
    schema = "carrier STRING, name STRING"
    delta_io.merge_on_key(spark.createDataFrame([("AA", "v0")], schema), path, ("carrier",))
    for n in range(1, 4):  # each MERGE of new keys only adds a file
        added = spark.createDataFrame([(f"C{n}", "new")], schema)
        delta_io.merge_on_key(added, path, ("carrier",))
    assert len(delta_io.active_files(spark, path)) == 4

    done = maintenance.maintain_table(spark, no_retention, AIRLINES)
    assert (done.files_before, done.files_after, done.stored_after) == (4, 1, 1)
    rows = dict(delta_io.read_table(spark, path).collect())
    assert rows["AA"] == "v0" and len(rows) == 4


def test_a_retention_of_a_week_keeps_the_replaced_files(spark, settings):
    path = settings.table_uri("gold", "carrier_daily")
    day = YEAR[0]
    frame = spark.createDataFrame([(day, "AA")], "flight_date DATE, carrier STRING")
    for _ in range(3):
        delta_io.write_range(frame, path, "flight_date", day, day)
    done = maintenance.maintain_table(spark, settings, table("gold/carrier_daily"))
    assert settings.maintenance.vacuum_retention_hours == 168
    assert done.files_after == 1 and done.stored_after == 3  # time travel still works
