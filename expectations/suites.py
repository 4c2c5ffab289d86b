"""Table-level Great Expectations suites, as code: one per table that matters.

Each entry is an expectation and whether it blocks publishing (``BLOCK``) or only warns
(``WARN``). Row-level decisions live in :mod:`expectations.rules`; these suites judge the
range as a whole (schema, parse rates, uniqueness, coverage), before it is published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs.tables import TABLES, table
from jobs.transforms.bronze import CORRUPT_COLUMN, FLIGHTS_COLUMNS, METADATA_COLUMNS

BLOCK, WARN = True, False


@dataclass(frozen=True)
class SuiteEntry:
    """One expectation of a suite: its GX class name, arguments and severity."""

    expectation: str  # a class name in great_expectations.expectations
    kwargs: dict[str, Any]
    blocking: bool

    def build(self) -> Any:
        import great_expectations.expectations as gxe

        meta = {"blocking": self.blocking}
        return getattr(gxe, self.expectation)(**self.kwargs, meta=meta)


def _e(expectation: str, blocking: bool, **kwargs: Any) -> SuiteEntry:
    return SuiteEntry(expectation, kwargs, blocking)


def _not_null(blocking: bool, *columns: str) -> list[SuiteEntry]:
    return [_e("ExpectColumnValuesToNotBeNull", blocking, column=c) for c in columns]


def bronze_flights() -> list[SuiteEntry]:
    """As received: the schema is the contract, and nearly every line must parse."""
    columns = [*FLIGHTS_COLUMNS, CORRUPT_COLUMN, *METADATA_COLUMNS, "flight_date"]
    return [
        _e("ExpectTableColumnsToMatchSet", BLOCK, column_set=columns, exact_match=True),
        *_not_null(BLOCK, "_source_file", "_row_number", "flight_date"),
        # Parse rate: at most 1% of lines may have the wrong number of fields.
        _e("ExpectColumnValuesToBeNull", BLOCK, column=CORRUPT_COLUMN, mostly=0.99),
        _e("ExpectColumnValuesToMatchRegex", WARN, column="dep_delay", regex=r"^(?:-?\d+|NA)$",
           mostly=0.999),
        _e("ExpectColumnValuesToMatchRegex", WARN, column="carrier", regex=r"^[A-Z0-9]{2}$",
           mostly=0.999),
    ]  # fmt: skip


def silver_flights() -> list[SuiteEntry]:
    """Clean flights: one row per natural key, times present, enrichment coverage."""
    return [
        _e("ExpectCompoundColumnsToBeUnique", BLOCK,
           column_list=["flight_date", "carrier", "flight", "origin"]),
        *_not_null(BLOCK, "flight_date", "carrier", "flight", "origin", "dest", "sched_dep_utc",
                   "sched_arr_utc", "cancelled"),
        _e("ExpectColumnValuesToBeBetween", BLOCK, column="dep_delay_min", min_value=-1440,
           max_value=1440),
        _e("ExpectColumnValuesToBeBetween", BLOCK, column="distance_mi", min_value=1),
        _e("ExpectColumnValuesToBeInSet", WARN, column="origin", value_set=["EWR", "JFK", "LGA"]),
        # Enrichment coverage: weather at the scheduled hour, and the plane's attributes.
        _e("ExpectColumnValuesToNotBeNull", WARN, column="temp_f", mostly=0.95),
        _e("ExpectColumnValuesToNotBeNull", WARN, column="plane_seats", mostly=0.8),
    ]  # fmt: skip


def route_daily() -> list[SuiteEntry]:
    """Route-day statistics: one row per key, counts and shares within their ranges."""
    return [
        _e("ExpectCompoundColumnsToBeUnique", BLOCK,
           column_list=["flight_date", "origin", "dest", "carrier"]),
        _e("ExpectColumnValuesToBeBetween", BLOCK, column="flights", min_value=1),
        _e("ExpectColumnPairValuesAToBeGreaterThanB", BLOCK, column_A="flights",
           column_B="cancelled", or_equal=True),
        _e("ExpectColumnValuesToBeBetween", BLOCK, column="on_time_share", min_value=0,
           max_value=1),
        _e("ExpectColumnValuesToBeBetween", WARN, column="mean_dep_delay_min", min_value=-60,
           max_value=1440),
    ]  # fmt: skip


def carrier_daily() -> list[SuiteEntry]:
    """Carrier-day scorecards: one row per key, counts and shares within their ranges."""
    return [
        _e("ExpectCompoundColumnsToBeUnique", BLOCK, column_list=["flight_date", "carrier"]),
        *_not_null(BLOCK, "flight_date", "carrier"),
        _e("ExpectColumnValuesToBeBetween", BLOCK, column="flights", min_value=1),
        _e("ExpectColumnPairValuesAToBeGreaterThanB", BLOCK, column_A="flights",
           column_B="cancelled", or_equal=True),
        _e("ExpectColumnValuesToBeBetween", BLOCK, column="on_time_share", min_value=0,
           max_value=1),
    ]  # fmt: skip


def _dimension(name: str, *warn_not_null: str) -> Callable[[], list[SuiteEntry]]:
    """A dimension's suite: its registered merge key unique and present, coverage warned."""
    (key,) = table(f"silver/{name}").merge_key

    def suite() -> list[SuiteEntry]:
        return [
            _e("ExpectColumnValuesToBeUnique", BLOCK, column=key),
            *_not_null(BLOCK, key),
            *[
                _e("ExpectColumnValuesToNotBeNull", WARN, column=c, mostly=0.95)
                for c in warn_not_null
            ],
        ]

    return suite


SUITES: dict[str, Callable[[], list[SuiteEntry]]] = {
    "bronze_flights": bronze_flights,
    "silver_flights": silver_flights,
    "route_daily": route_daily,
    "carrier_daily": carrier_daily,
    "planes": _dimension("planes", "seats"),
    "airports": _dimension("airports", "tzone"),
    "airlines": _dimension("airlines", "name"),
}

SAMPLE_SIZE = 5
# Columns that identify an offending row in a result: the raw line, or the table's key
# (dimensions: their registered merge key).
ROW_IDENTITY: dict[str, tuple[str, ...]] = {
    "bronze_flights": ("_source_file", "_row_number"),
    "silver_flights": ("_source_file", "_row_number"),
    "route_daily": ("flight_date", "origin", "dest", "carrier"),
    "carrier_daily": ("flight_date", "carrier"),
    **{t.name: t.merge_key for t in TABLES.values() if t.merge_key},
}


def result_format(suite: str) -> dict[str, Any]:
    """How much a suite's checkpoint computes: success, counts and percentages. Sample values
    cost a Spark job per expectation, passing ones too (2-3x the whole validation on a day),
    so they are computed only for what failed (:func:`detail_format`)."""
    return {"result_format": "BASIC", "partial_unexpected_count": 0}


def detail_format(suite: str) -> dict[str, Any]:
    """The result format of the second pass over failed expectations: a sample of unexpected
    values and, where the suite has a row identity, the rows behind them (GX refuses an empty
    list of identity columns)."""
    details: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}
    if ROW_IDENTITY.get(suite):
        details["unexpected_index_column_names"] = list(ROW_IDENTITY[suite])
    return details
