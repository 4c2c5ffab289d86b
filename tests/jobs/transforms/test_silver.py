"""Silver flight parsing: clock times to UTC across DST, midnight and time zones."""

import datetime as dt

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.transforms import silver
from tests.jobs.builders import airlines, airports, bronze_flights, flight


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def parse_one(spark, **fields):
    bronze = bronze_flights(spark, [flight(**fields)])
    return silver.parse_flights(bronze, airports(spark), airlines(spark)).first()


def test_hhmm_clock_times_become_minutes_after_midnight(spark):
    df = spark.createDataFrame([(517,), (0,), (2400,), (1260,), (2401,), (-5,), (None,)], "t INT")
    result = df.select(silver.hhmm_to_minutes(F.col("t")).alias("m"))
    expected = spark.createDataFrame(
        [(317,), (0,), (1440,), (None,), (None,), (None,), (None,)], "m INT"
    )
    assert_df_equality(result, expected)


def test_raw_numbers_tell_missing_from_malformed(spark):
    df = spark.createDataFrame([("12",), ("NA",), ("",), (None,), ("1x",), (" -3 ",)], "r STRING")
    result = df.select(
        silver.to_int(F.col("r")).alias("value"),
        silver.is_malformed_integer(F.col("r")).alias("malformed"),
    )
    expected = spark.createDataFrame(
        [(12, False), (None, False), (None, False), (None, False), (None, True), (-3, False)],
        "value INT, malformed BOOLEAN",
    )
    assert_df_equality(result, expected, ignore_nullable=True)


@pytest.mark.parametrize(
    ("day", "sched", "expected_utc"),
    [
        ("2013-01-15", "600", "2013-01-15 11:00:00"),  # EST, UTC-5
        ("2013-03-09", "600", "2013-03-09 11:00:00"),  # the day before DST starts
        ("2013-03-10", "600", "2013-03-10 10:00:00"),  # DST started at 02:00: EDT, UTC-4
        ("2013-11-03", "600", "2013-11-03 11:00:00"),  # DST ended at 02:00: back to EST
        ("2013-07-04", "2359", "2013-07-05 03:59:00"),
    ],
)
def test_scheduled_departure_is_new_york_time_in_utc(spark, day, sched, expected_utc):
    row = parse_one(spark, on=day, sched_dep_time=sched, dep_time=sched, dep_delay="0")
    assert row["sched_dep_utc"] == utc(expected_utc)
    assert row["dep_utc"] == utc(expected_utc)
    assert row["sched_hour_utc"] == utc(expected_utc).replace(minute=0)


def test_a_delay_past_midnight_departs_the_next_day(spark):
    row = parse_one(spark, sched_dep_time="2355", dep_time="10", dep_delay="15")
    assert row["sched_dep_utc"] == utc("2013-01-02 04:55:00")
    assert row["dep_utc"] == utc("2013-01-02 05:10:00")


def test_an_early_departure_before_midnight_stays_on_the_previous_day(spark):
    row = parse_one(spark, on="2013-01-02", sched_dep_time="5", dep_time="2358", dep_delay="-7")
    assert row["dep_utc"] == utc("2013-01-02 04:58:00")


def test_a_departure_at_2400_is_midnight_of_the_next_day(spark):
    row = parse_one(spark, sched_dep_time="2359", dep_time="2400", dep_delay="1")
    assert row["dep_utc"] == utc("2013-01-02 05:00:00")


def test_an_overnight_arrival_lands_the_next_day_in_the_destination_zone(spark):
    # JFK 21:30 EST -> LAX 00:45 PST next day (08:45 UTC)
    row = parse_one(
        spark, origin="JFK", dest="LAX", sched_dep_time="2130", dep_time="2130", dep_delay="0",
        sched_arr_time="45", arr_time="45", arr_delay="0",
    )  # fmt: skip
    assert row["sched_arr_utc"] == utc("2013-01-02 08:45:00")
    assert row["arr_utc"] == utc("2013-01-02 08:45:00")


def test_a_same_day_arrival_uses_the_destination_zone(spark):
    # EWR 05:15 EST -> ORD 08:19 CST = 14:19 UTC
    row = parse_one(spark)
    assert row["sched_arr_utc"] == utc("2013-01-01 14:19:00")
    assert row["arr_utc"] == utc("2013-01-01 14:30:00")


def test_puerto_rico_arrivals_use_the_zone_missing_from_the_airports_snapshot(spark):
    row = parse_one(spark, dest="SJU", sched_arr_time="1000", arr_time="1000", arr_delay="0")
    assert row["arr_utc"] == utc("2013-01-01 14:00:00")  # AST, UTC-4 all year


def test_a_cancelled_flight_keeps_its_schedule_and_has_no_actual_times(spark):
    row = parse_one(
        spark, dep_time="NA", dep_delay="NA", arr_time="NA", arr_delay="NA", air_time="NA"
    )
    assert row["cancelled"] is True
    assert row["sched_dep_utc"] == utc("2013-01-01 10:15:00")
    assert row["dep_utc"] is None and row["arr_utc"] is None
    assert row["dep_delay_min"] is None


def test_a_diverted_flight_departs_but_has_no_arrival(spark):
    row = parse_one(spark, arr_time="NA", arr_delay="NA", air_time="NA")
    assert row["cancelled"] is False
    assert row["dep_utc"] == utc("2013-01-01 10:17:00")
    assert row["arr_utc"] is None


def test_enrich_joins_weather_at_the_scheduled_hour_and_the_plane(spark):
    flights = spark.createDataFrame(
        [("EWR", "N1", utc("2013-01-01 10:00:00")), ("JFK", "N9", utc("2013-01-01 11:00:00"))],
        "origin STRING, tailnum STRING, sched_hour_utc TIMESTAMP",
    )
    for column in silver.SILVER_FLIGHT_COLUMNS + silver.LINEAGE_COLUMNS:
        if column not in flights.columns:
            flights = flights.withColumn(column, F.lit(None).cast("string"))
    weather = spark.createDataFrame(
        [("EWR", utc("2013-01-01 10:00:00"), 39.0), ("EWR", utc("2013-01-01 11:00:00"), 41.0)],
        "origin STRING, time_hour_utc TIMESTAMP, temp_f DOUBLE",
    )
    for column in silver.SILVER_WEATHER_COLUMNS:
        if column not in weather.columns:
            weather = weather.withColumn(column, F.lit(None).cast("double"))
    planes = spark.createDataFrame(
        [("N1", 2004, "Fixed wing", "EMBRAER", "EMB-145", 2, 55, "Turbo-fan")],
        "tailnum STRING, year_built INT, type STRING, manufacturer STRING, model STRING, "
        "engines INT, seats INT, engine STRING",
    )
    rows = {r["origin"]: r for r in silver.enrich_flights(flights, weather, planes).collect()}
    assert rows["EWR"]["temp_f"] == 39.0 and rows["EWR"]["plane_seats"] == 55
    assert rows["JFK"]["temp_f"] is None and rows["JFK"]["plane_seats"] is None
