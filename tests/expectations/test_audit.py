"""Audits as records: the accounting identity is counted beside its suite's gate, and says
what it added to the build's time."""

import datetime as dt
import threading
import time

import pytest

from expectations import audit
from expectations.audit import SuiteAudit, audit_accounts_beside
from expectations.gate import GateReport

D1, D2 = dt.date(2013, 1, 1), dt.date(2013, 1, 2)


def days(spark, *dates):
    return spark.createDataFrame([(d,) for d in dates], "flight_date DATE")


def test_the_identity_is_counted_while_the_suite_runs_and_adds_only_what_outlasts_it(
    spark, monkeypatch
):
    counted = threading.Event()
    real = audit.daily_accounts

    def counting(*frames):
        accounts = real(*frames)
        counted.set()
        return accounts

    monkeypatch.setattr(audit, "daily_accounts", counting)

    def suite() -> SuiteAudit:  # a gate that ends only once the identity is counted
        began = time.monotonic()
        assert counted.wait(60), "the identity was not counted while the suite ran"
        report = GateReport("silver_flights", None, None, "r", "now", 2)
        return SuiteAudit("silver/flights", report, time.monotonic() - began, 2, "spark")

    bronze, good, bad = days(spark, D1, D1, D2), days(spark, D1), days(spark, D1)
    accounting, judged = audit_accounts_beside(suite, "silver/flights", bronze, good, bad,
                                               "flight_date")  # fmt: skip

    assert judged.report.suite == "silver_flights"
    assert [a.day for a in accounting.broken()] == [D2]  # D2 lost its row
    assert accounting.blocking_failures() == [
        "silver/flights: 2013-01-02: bronze 1 != silver 0 + quarantined 0"
    ]
    assert accounting.elapsed and accounting.elapsed > 0
    assert accounting.seconds < accounting.elapsed  # hidden behind the suite's time
    [outcome] = accounting.outcomes()
    assert outcome.metadata["elapsed_beside_suite_seconds"] == accounting.elapsed


def test_beside_a_suite_validated_on_the_driver_the_identity_is_counted_first(spark, monkeypatch):
    counted = threading.Event()
    real = audit.daily_accounts
    monkeypatch.setattr(audit, "daily_accounts", lambda *f: (real(*f), counted.set())[0])

    def suite() -> SuiteAudit:  # a pandas copy's gate holds the interpreter: none beside it
        assert counted.is_set()
        report = GateReport("silver_flights", None, None, "r", "now", 1)
        return SuiteAudit("silver/flights", report, 0.1, 1, "pandas")

    frame = days(spark, D1)
    accounting, _ = audit_accounts_beside(suite, "silver/flights", frame, frame, days(spark),
                                          "flight_date", beside=False)  # fmt: skip
    assert accounting.broken() == [] and accounting.elapsed is None
    assert accounting.seconds > 0
    [outcome] = accounting.outcomes()
    assert "elapsed_beside_suite_seconds" not in outcome.metadata


def test_a_suite_audit_takes_the_count_its_caller_made_instead_of_counting_again(spark, settings):
    frame = spark.createDataFrame(
        [(D1, "UA", 3, 1, 5.0, 0.5)],
        "flight_date DATE, carrier STRING, flights INT, cancelled INT, "
        "mean_dep_delay_min DOUBLE, on_time_share DOUBLE",
    ).persist()
    counted = audit.audit_suite("gold/carrier_daily", "carrier_daily", frame, settings, "r1")
    frame.count = lambda: pytest.fail("counted again")  # type: ignore[method-assign]
    given = audit.audit_suite("gold/carrier_daily", "carrier_daily", frame, settings, "r2",
                              rows=1)  # fmt: skip
    assert (counted.rows, given.rows) == (1, 1)
    assert given.report.passed(blocking=True)
