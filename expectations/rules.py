"""Row-level quality rules: which rows go to silver and which to quarantine, and why.

A rule is a named Spark ``Column`` predicate that is true for a good row, plus the reason
recorded when it is not (a null result counts as a failure). Rules are declared once,
here, and serve both the split and the documentation (``describe_rules``). Duplicates of
a natural key are decided after the other rules, among rows that passed them, so the
first good copy (by file and line) survives and the others carry the reason
``duplicate``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.transforms.bronze import CORRUPT_COLUMN
from jobs.transforms.silver import (
    FLIGHT_INT_FIELDS,
    WEATHER_DECIMAL_FIELDS,
    is_malformed_decimal,
    is_malformed_integer,
    is_missing,
)

REASONS_COLUMN = "_reasons"
DUPLICATE = "duplicate"


@dataclass(frozen=True)
class RowRule:
    """A predicate every good row satisfies, and the reason recorded when one does not."""

    name: str
    reason: str
    description: str
    passes: Callable[[], Column]


def has_expected_field_count() -> Column:
    return F.col(CORRUPT_COLUMN).isNull()


def _all(conditions: Sequence[Column]) -> Column:
    result = conditions[0]
    for condition in conditions[1:]:
        result = result & condition
    return result


DEFAULT_MAX_DELAY_MINUTES = 1440


def _minutes_between(start: str, end: str) -> Column:
    return (F.unix_timestamp(end) - F.unix_timestamp(start)) / 60


def is_in_file_day(file_day_column: str, described: str) -> RowRule:
    """The row's own date (``row_date``) is the day of the file it arrived in."""
    return RowRule(
        "is_in_file_day",
        "date_outside_partition",
        f"The row's {described} is the day of the file it arrived in.",
        lambda: F.col("row_date") == F.col(file_day_column),
    )


def flight_rules(max_delay_minutes: int = DEFAULT_MAX_DELAY_MINUTES) -> tuple[RowRule, ...]:
    """The row rules of flights; ``max_delay_minutes`` bounds a believable delay."""
    return (
        *_BASE_FLIGHT_RULES,
        RowRule(
            "is_known_carrier",
            "unknown_carrier",
            "The carrier code is in the airlines dimension.",
            lambda: is_missing(F.col("carrier")) | F.col("carrier_name").isNotNull(),
        ),
        RowRule(
            "is_known_airport",
            "unknown_airport",
            "Origin and destination are airports with a known time zone.",
            lambda: (
                (is_missing(F.col("origin")) | F.col("origin_tz").isNotNull())
                & F.col("dest_tz").isNotNull()
            ),
        ),
        RowRule(
            "has_positive_distance",
            "non_positive_distance",
            "A given distance is more than zero miles.",
            lambda: F.col("distance_mi").isNull() | (F.col("distance_mi") > 0),
        ),
        RowRule(
            "has_plausible_delays",
            "delay_out_of_bounds",
            f"Departure and arrival delays are within {max_delay_minutes} minutes either way.",
            lambda: (
                (F.col("dep_delay_min").isNull() | (F.abs("dep_delay_min") <= max_delay_minutes))
                & (F.col("arr_delay_min").isNull() | (F.abs("arr_delay_min") <= max_delay_minutes))
            ),
        ),
        RowRule(
            "arrives_after_departure",
            "arrival_before_departure",
            "Gate-to-gate time (UTC arrival minus UTC departure, overnight included) is at "
            "least the air time.",
            lambda: (
                F.col("arr_utc").isNull()
                | F.col("dep_utc").isNull()
                | F.col("air_time_min").isNull()
                | (_minutes_between("dep_utc", "arr_utc") >= F.col("air_time_min"))
            ),
        ),
    )


_BASE_FLIGHT_RULES: tuple[RowRule, ...] = (
    RowRule(
        "has_expected_field_count",
        "wrong_field_count",
        "The line splits into exactly the header's 19 fields.",
        has_expected_field_count,
    ),
    RowRule(
        "has_natural_key",
        "null_natural_key",
        "year, month, day, carrier, flight and origin are all present.",
        lambda: _all(
            [~is_missing(F.col(c)) for c in ("year", "month", "day", "carrier", "flight", "origin")]
        ),
    ),
    RowRule(
        "has_numeric_fields",
        "malformed_number",
        "Every numeric field is empty, NA or an integer.",
        lambda: _all([~is_malformed_integer(F.col(c)) for c in FLIGHT_INT_FIELDS]),
    ),
    is_in_file_day("flight_date", "year-month-day"),
    RowRule(
        "has_scheduled_times",
        "missing_scheduled_time",
        "Scheduled departure and arrival are both given.",
        lambda: ~is_missing(F.col("sched_dep_time")) & ~is_missing(F.col("sched_arr_time")),
    ),
    RowRule(
        "has_possible_clock_times",
        "impossible_time",
        "Every given HHMM time has hours 0-24 and minutes 0-59 (2400 is midnight).",
        lambda: _all(
            [
                is_missing(F.col(raw)) | F.col(parsed).isNotNull()
                for raw, parsed in (
                    ("sched_dep_time", "sched_dep_min"),
                    ("dep_time", "dep_min"),
                    ("sched_arr_time", "sched_arr_min"),
                    ("arr_time", "arr_min"),
                )
            ]
        ),
    ),
)

FLIGHT_RULES = flight_rules()

WEATHER_RULES: tuple[RowRule, ...] = (
    RowRule(
        "has_expected_field_count",
        "wrong_field_count",
        "The line splits into exactly the header's 15 fields.",
        has_expected_field_count,
    ),
    RowRule(
        "has_station_and_hour",
        "null_natural_key",
        "origin and a parseable UTC time_hour are present.",
        lambda: ~is_missing(F.col("origin")) & F.col("time_hour_utc").isNotNull(),
    ),
    RowRule(
        "has_numeric_fields",
        "malformed_number",
        "Every numeric field is empty, NA or a number.",
        lambda: _all([~is_malformed_decimal(F.col(c)) for c in WEATHER_DECIMAL_FIELDS]),
    ),
    is_in_file_day("weather_date", "local year-month-day"),
)


def failed_reasons(rules: Sequence[RowRule]) -> Column:
    """Array of the reasons of every rule the row fails (empty when it passes all)."""
    flags = [F.when(~F.coalesce(rule.passes(), F.lit(False)), F.lit(rule.reason)) for rule in rules]
    return F.filter(F.array(*flags), lambda reason: reason.isNotNull())


def mark_failures(
    df: DataFrame, rules: Sequence[RowRule], key: Sequence[str], order: Sequence[str]
) -> DataFrame:
    """Add ``_reasons``: every rule the row fails, and ``duplicate`` for later copies of a key.

    Among rows passing all rules and sharing ``key``, the first by ``order`` is kept.
    """
    checked = df.withColumn(REASONS_COLUMN, failed_reasons(rules))
    passed = F.size(REASONS_COLUMN) == 0
    copies = Window.partitionBy(*key, passed).orderBy(*order)
    rank = F.row_number().over(copies)
    return checked.withColumn(
        REASONS_COLUMN,
        F.when(passed & (rank > 1), F.array(F.lit(DUPLICATE))).otherwise(F.col(REASONS_COLUMN)),
    )


def passed_rows(checked: DataFrame) -> DataFrame:
    """Rows of a marked frame that go on to silver."""
    return checked.where(F.size(REASONS_COLUMN) == 0).drop(REASONS_COLUMN)


def failed_rows(checked: DataFrame) -> DataFrame:
    """Rows of a marked frame that go to quarantine, reasons attached."""
    return checked.where(F.size(REASONS_COLUMN) > 0)


def to_quarantine(
    checked: DataFrame,
    raw_columns: Sequence[str],
    date_column: str,
    lineage: Sequence[str],
    run_id: str,
) -> DataFrame:
    """Quarantined rows as received, with their lineage, every reason and the run that
    quarantined them."""
    return failed_rows(checked).select(
        date_column,
        *raw_columns,
        CORRUPT_COLUMN,
        *lineage,
        F.col(REASONS_COLUMN).alias("reasons"),
        F.lit(run_id).alias("_run_id"),
    )


def describe_rules(rules: Sequence[RowRule]) -> list[dict[str, str]]:
    """The rules as documentation rows: name, reason, description."""
    return [{"rule": r.name, "reason": r.reason, "description": r.description} for r in rules]
