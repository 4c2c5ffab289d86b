"""What each table is made of: reads at the edge, then the pure transforms and row rules.

Dagster assets and spark-submit entry points both call these functions, so there is one
implementation of every table. Writing is left to the caller (the Delta IO manager or an
entry point), through :mod:`jobs.delta_io`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession

from expectations import rules
from jobs.io import landing, sources
from jobs.settings import Settings
from jobs.tables import table
from jobs.transforms import bronze, dimensions, silver

ROW_ORDER = ("_source_file", "_row_number")


@dataclass(frozen=True)
class DailyDataset:
    """A dataset that lands as one file per day."""

    name: str
    columns: tuple[str, ...]

    @property
    def date_column(self) -> str:
        column = table(f"bronze/{self.name}").date_column
        assert column, f"bronze/{self.name} is registered without a date column"
        return column


FLIGHTS = DailyDataset("flights", bronze.FLIGHTS_COLUMNS)
WEATHER = DailyDataset("weather", bronze.WEATHER_COLUMNS)
DIMENSION_TYPERS = {
    "planes": dimensions.type_planes,
    "airports": dimensions.type_airports,
    "airlines": dimensions.type_airlines,
}


@dataclass(frozen=True)
class Ingest:
    """Bronze rows for a range and the cached landing lines behind them."""

    rows: DataFrame
    lines: DataFrame

    def release(self) -> None:
        """Drop the cached lines once the rows are written."""
        self.lines.unpersist()


def ingest_daily(
    spark: SparkSession,
    settings: Settings,
    dataset: DailyDataset,
    start: dt.date,
    end: dt.date,
    ingested_at: dt.datetime,
) -> Ingest:
    """Bronze rows of ``dataset`` for ``[start, end]``; fails naming any bad landing file."""
    files = sources.daily_files(settings.landing_uri(dataset.name), start, end)
    lines = sources.read_landing_lines(spark, files, dataset.columns)
    return Ingest(bronze.to_bronze(lines, dataset.columns, dataset.date_column, ingested_at), lines)


def dimension_snapshot(spark: SparkSession, settings: Settings, name: str) -> tuple[DataFrame, str]:
    """The typed latest snapshot of dimension ``name`` (planes, airports or airlines), and
    its fingerprint: the landed file's content and the typed schema (so a new typing of the
    same file is not mistaken for the snapshot already merged)."""
    uri = sources.latest_snapshot(spark, settings.landing_uri(name))
    typed = DIMENSION_TYPERS[name](sources.read_snapshot_csv(spark, uri))
    content = landing.fingerprint(settings, uri)
    schema = hashlib.md5(typed.schema.json().encode(), usedforsecurity=False).hexdigest()
    return typed, f"snapshot md5 {content} schema {schema[:12]}"


def check_flights(
    bronze_flights: DataFrame,
    airports: DataFrame,
    airlines: DataFrame,
    max_delay_minutes: int = rules.DEFAULT_MAX_DELAY_MINUTES,
) -> DataFrame:
    """Parsed flights with ``_reasons`` marking every row that must go to quarantine; what
    only the rules read is dropped (the build caches this frame: 8 of its 45 columns)."""
    parsed = silver.parse_flights(bronze_flights, airports, airlines)
    checks = rules.flight_rules(max_delay_minutes)
    checked = rules.mark_failures(parsed, checks, silver.FLIGHT_KEY, ROW_ORDER)
    return checked.drop(*silver.RULE_ONLY_FLIGHT_COLUMNS)


def check_weather(bronze_weather: DataFrame) -> DataFrame:
    """Parsed weather with ``_reasons`` marking every row that must go to quarantine."""
    parsed = silver.parse_weather(bronze_weather)
    return rules.mark_failures(parsed, rules.WEATHER_RULES, silver.WEATHER_KEY, ROW_ORDER)


def silver_flights(checked: DataFrame, weather: DataFrame, planes: DataFrame) -> DataFrame:
    """Good flights, typed and in UTC, with weather at the scheduled hour and plane attributes."""
    return silver.enrich_flights(
        silver.to_silver_flights(rules.passed_rows(checked)), weather, planes
    )


def silver_weather(checked: DataFrame) -> DataFrame:
    """Good hourly weather observations, typed."""
    return silver.to_silver_weather(rules.passed_rows(checked))


def quarantine(checked: DataFrame, dataset: DailyDataset, run_id: str) -> DataFrame:
    """Rows of ``dataset`` that failed a rule, as received, with every reason and the run."""
    return rules.to_quarantine(
        checked, dataset.columns, dataset.date_column, silver.LINEAGE_COLUMNS, run_id
    )
