"""Gold route-day and carrier-day statistics and model features."""

import datetime as dt

import pytest

from jobs.transforms import gold

D = dt.date(2013, 1, 1)
SCHEMA = (
    "flight_date DATE, origin STRING, dest STRING, carrier STRING, cancelled BOOLEAN, "
    "dep_delay_min INT, arr_delay_min INT"
)


def test_route_days_count_flights_cancellations_and_delay_profile(spark):
    flights = spark.createDataFrame(
        [
            (D, "EWR", "ORD", "UA", False, 0, 10),
            (D, "EWR", "ORD", "UA", False, 10, 20),
            (D, "EWR", "ORD", "UA", False, 20, 14),
            (D, "EWR", "ORD", "UA", False, 100, None),  # diverted: no arrival
            (D, "EWR", "ORD", "UA", True, None, None),
            (D, "JFK", "LAX", "AA", False, -5, -10),
        ],
        SCHEMA,
    )
    rows = {r["origin"]: r for r in gold.summarize_route_days(flights).collect()}
    ewr = rows["EWR"]
    assert (ewr["flights"], ewr["cancelled"]) == (5, 1)
    assert ewr["mean_dep_delay_min"] == pytest.approx(32.5)
    assert ewr["median_dep_delay_min"] == pytest.approx(15.0)
    assert ewr["p90_dep_delay_min"] == pytest.approx(76.0)  # exact, interpolated
    assert ewr["on_time_share"] == pytest.approx(2 / 3)
    assert (rows["JFK"]["flights"], rows["JFK"]["on_time_share"]) == (1, 1.0)


def test_carrier_days_summarize_every_route_of_a_carrier(spark):
    flights = spark.createDataFrame(
        [
            (D, "EWR", "ORD", "UA", False, 0, 10),
            (D, "JFK", "SFO", "UA", False, 30, 40),
            (D, "LGA", "ORD", "UA", True, None, None),
            (D, "JFK", "LAX", "AA", False, -5, -10),
        ],
        SCHEMA,
    )
    rows = {r["carrier"]: r for r in gold.summarize_carrier_days(flights).collect()}
    assert (rows["UA"]["flights"], rows["UA"]["cancelled"]) == (3, 1)
    assert rows["UA"]["mean_dep_delay_min"] == pytest.approx(15.0)
    assert rows["UA"]["on_time_share"] == pytest.approx(0.5)
    assert (rows["AA"]["flights"], rows["AA"]["on_time_share"]) == (1, 1.0)
