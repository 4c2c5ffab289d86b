"""The gate runs each suite on a small frame, with or without row identities for samples."""

import datetime as dt

import pytest

from expectations import gate
from expectations.suites import SUITES

D = dt.date(2013, 1, 1)


def carrier_days(spark, rows):
    return spark.createDataFrame(
        rows,
        "flight_date DATE, carrier STRING, flights INT, cancelled INT, "
        "mean_dep_delay_min DOUBLE, on_time_share DOUBLE",
    )


def test_every_suite_names_the_columns_that_identify_an_offending_row():
    assert set(SUITES) == set(gate.ROW_IDENTITY)


def test_a_failing_expectation_names_the_offending_rows(spark):
    frame = carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5), (D, "AA", 1, 2, 1.0, 1.0)])
    report = gate.validate(frame, "carrier_daily", "run-1", D, D)
    failed = report.failed(blocking=True)
    assert [o.expectation for o in failed] == ["expect_column_pair_values_a_to_be_greater_than_b"]
    assert failed[0].sample_rows == [
        {"flight_date": "2013-01-01", "carrier": "AA", "flights": 1, "cancelled": 2}
    ]


def test_a_suite_without_row_identity_still_validates(spark, monkeypatch):
    monkeypatch.delitem(gate.ROW_IDENTITY, "carrier_daily")
    report = gate.validate(carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5)]), "carrier_daily", "r")
    assert report.passed(blocking=True)
    assert [o.error for o in report.outcomes] == [None] * len(report.outcomes)


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_suite_builds_its_expectations(suite):
    assert [entry.build() for entry in SUITES[suite]()]
