"""What one run of each table group computes and audits, before anything is written.

A build holds the output frames of a group (e.g. ``silver/flights`` with
``quarantine/flights``) and the audits that must pass before they are published. The
Dagster assets and the spark-submit entry points both call these functions, then write
the outputs with :mod:`jobs.delta_io` (through the IO manager, or directly) only when
nothing blocks: write-audit-publish with one implementation of every table.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, ParamSpec

from pyspark.sql import DataFrame, SparkSession

from expectations.audit import (
    Audit,
    CheckOutcome,
    SnapshotUnchanged,
    audit_accounts_beside,
    audit_suite,
    validated_on_driver,
)
from expectations.context import pages_built
from jobs.compose import pipeline
from jobs.io import delta_io
from jobs.io.table_io import Snapshot
from jobs.settings import Settings
from jobs.tables import Table, table
from jobs.transforms import gold


class Blocked(RuntimeError):
    """A blocking audit failed; nothing of the build was written."""


@dataclass
class Build:
    """Output frames by table, in write order, and the audits that gate them."""

    outputs: dict[str, DataFrame | Snapshot]
    audits: list[Audit] = field(default_factory=list)  # reported in this order
    held: list[DataFrame] = field(default_factory=list)  # cached; released after the writes
    # What the group made that is not a table (a registered model version), as plain
    # metadata by asset key; reported once the outputs are published.
    reports: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    ingest: pipeline.Ingest | None = None
    # Spark work done before publishing (reading, parsing, joining, filling the cached
    # frames), audits left out; a frame left lazy is computed by its write instead.
    build_seconds: float = 0.0

    def blocking_failures(self) -> list[str]:
        """Why this build must not be published (empty when it may)."""
        return [message for audit in self.audits for message in audit.blocking_failures()]

    def check_outcomes(self) -> list[CheckOutcome]:
        """Every audit as asset-check outcomes, in the build's order."""
        return [outcome for audit in self.audits for outcome in audit.outcomes()]

    def release(self) -> None:
        """Free the cached frames (the outputs are written, or blocked), and wait for the
        audits' Data Docs pages, rendered meanwhile: a published group has its pages."""
        for df in self.held:
            df.unpersist()
        if self.ingest:
            self.ingest.release()
        pages_built()


def publishable(
    build: Build,
) -> Generator[tuple[Table, DataFrame | Snapshot, float | None]]:
    """The one publish sequence, after the build's audits ran: if one blocks, release the
    cached frames and raise :class:`Blocked` (nothing is written, readers keep the previous
    versions); otherwise yield each output for the caller to write, in write order, with the
    build's time on the first one only (a group's outputs share one build), and release the
    cached frames once the last one is written."""
    failures = build.blocking_failures()
    if failures:
        build.release()
        raise Blocked(
            "blocked before publishing; the tables keep their previous version:\n"
            + "\n".join(failures)
        )
    try:
        for index, (key, df) in enumerate(build.outputs.items()):
            yield table(key), df, build.build_seconds if index == 0 else None
    finally:
        build.release()


P = ParamSpec("P")


def timed(make: Callable[P, Build]) -> Callable[P, Build]:
    """Record how long ``make`` took (``Build.build_seconds``), leaving out the time its
    audits measured themselves (the gates report theirs)."""

    @functools.wraps(make)
    def timed(*args: P.args, **kwargs: P.kwargs) -> Build:
        began = time.monotonic()
        build = make(*args, **kwargs)
        audits = sum(getattr(audit, "seconds", 0.0) for audit in build.audits)
        build.build_seconds = round(max(time.monotonic() - began - audits, 0.0), 2)
        return build

    return timed


@timed
def bronze(
    spark: SparkSession,
    settings: Settings,
    dataset: pipeline.DailyDataset,
    start: dt.date,
    end: dt.date,
    run_id: str,
) -> Build:
    """Landed rows of ``dataset`` for the range; flights are audited by their bronze suite."""
    table = f"bronze/{dataset.name}"
    now = dt.datetime.now(dt.UTC)
    ingest = pipeline.ingest_daily(spark, settings, dataset, start, end, now)
    rows = ingest.rows.persist()
    build = Build({table: rows}, held=[rows], ingest=ingest)
    if dataset.name == "flights":
        build.audits.append(
            audit_suite(table, "bronze_flights", rows, settings, run_id, start, end)
        )
    return build


@timed
def dimension(spark: SparkSession, settings: Settings, name: str, run_id: str) -> Build:
    """The newest landing snapshot of dimension ``name``, typed and audited; nothing is
    read, audited or merged when the table's newest commit of rows (maintenance commits
    aside) is of that same snapshot."""
    table = f"silver/{name}"
    typed, fingerprint = pipeline.dimension_snapshot(spark, settings, name)
    merged = delta_io.commit_metadata(spark, settings.table_uri("silver", name))
    if merged == fingerprint:
        return Build(
            {table: Snapshot(fingerprint, None)}, audits=[SnapshotUnchanged(table, name, merged)]
        )
    snapshot = typed.persist()
    return Build(
        {table: Snapshot(fingerprint, snapshot)},
        audits=[audit_suite(table, name, snapshot, settings, run_id)],
        held=[snapshot],
    )


@timed
def silver_weather(bronze_weather: DataFrame, run_id: str) -> Build:
    """Good hourly weather and the rejected rows with their reasons."""
    checked = pipeline.check_weather(bronze_weather).persist()
    return Build(
        {
            "silver/weather": pipeline.silver_weather(checked),
            "quarantine/weather": pipeline.quarantine(checked, pipeline.WEATHER, run_id),
        },
        held=[checked],
    )


@timed
def silver_flights(
    settings: Settings,
    bronze_flights: DataFrame,
    weather: DataFrame,
    planes: DataFrame,
    airports: DataFrame,
    airlines: DataFrame,
    start: dt.date,
    end: dt.date,
    run_id: str,
) -> Build:
    """Good flights and quarantined ones, audited by the accounting identity and the suite."""
    max_delay = settings.quality.max_delay_minutes
    checked = pipeline.check_flights(bronze_flights, airports, airlines, max_delay).persist()
    good = pipeline.silver_flights(checked, weather, planes).persist()
    bad = pipeline.quarantine(checked, pipeline.FLIGHTS, run_id)
    rows = good.count()  # fill the cache now: the audits and the write all read it
    audits = audit_accounts_beside(
        lambda: audit_suite("silver/flights", "silver_flights", good, settings, run_id, start, end,
                            rows),
        "silver/flights", bronze_flights, good, bad, "flight_date",
        beside=not validated_on_driver(rows, settings),  # Spark validates the suite
    )  # fmt: skip
    return Build(
        {"silver/flights": good, "quarantine/flights": bad},
        audits=list(audits),
        held=[good, checked],
    )


@dataclass(frozen=True)
class GoldTable:
    """A gold table: a transform of the range of ``silver/flights``, with its suite if any."""

    table: str
    transform: Callable[[DataFrame], DataFrame]
    suite: str | None = None  # None: no gate of its own (silver is already audited)


# Every gold table; the assets and the gold spark-submit job are made from this list.
GOLD_TABLES = (
    GoldTable("gold/route_daily", gold.summarize_route_days, "route_daily"),
    GoldTable("gold/flight_features", gold.build_flight_features),
    GoldTable("gold/carrier_daily", gold.summarize_carrier_days, "carrier_daily"),
)


@timed
def gold_table(
    spec: GoldTable,
    settings: Settings,
    flights: DataFrame,
    start: dt.date,
    end: dt.date,
    run_id: str,
) -> Build:
    """One gold table for the range, audited by its suite when it has one."""
    frame = spec.transform(flights)
    if spec.suite is None:
        return Build({spec.table: frame})
    frame = frame.persist()
    audit = audit_suite(spec.table, spec.suite, frame, settings, run_id, start, end)
    return Build({spec.table: frame}, audits=[audit], held=[frame])
