"""What each table is made of: the checked flights a build caches hold what silver and the
quarantine read, and nothing only the row rules do."""

from pyspark.errors import AnalysisException

from expectations import rules
from jobs.compose import pipeline
from jobs.transforms import silver
from tests.jobs.builders import airlines, airports, bronze_flights, flight


def _read_downstream(checked):
    """Analyze silver flights and the quarantine of ``checked``: their columns."""
    good = silver.to_silver_flights(rules.passed_rows(checked))
    return good.columns, pipeline.quarantine(checked, pipeline.FLIGHTS, "run-1").columns


def test_checked_flights_hold_what_silver_and_the_quarantine_read_and_nothing_else(spark):
    rows = [flight(), flight(carrier="ZZ", _row_number=3)]
    checked = pipeline.check_flights(bronze_flights(spark, rows), airports(spark), airlines(spark))
    assert not set(silver.RULE_ONLY_FLIGHT_COLUMNS) & set(checked.columns)
    assert [r["_reasons"] for r in checked.orderBy("_row_number").collect()] == [
        [],
        ["unknown_carrier"],
    ]
    downstream = _read_downstream(checked)
    unread = []
    for column in checked.columns:
        try:
            if _read_downstream(checked.drop(column)) == downstream:
                unread.append(column)
        except AnalysisException:
            pass  # silver or the quarantine reads it
    assert unread == []
