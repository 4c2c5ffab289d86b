"""The spark-submit side of every layer: read inputs, build, audit, write, report.

``jobs/bronze_job.py``, ``jobs/silver_job.py`` and ``jobs/gold_job.py`` are thin entry points
into :func:`main`. A layer is a list of table groups; each group is built by the same
function the Dagster asset calls (:mod:`jobs.builds`), audited, and written with the same
Delta writer, only when no blocking audit failed. Exit codes: 0 written, 1 blocked or a
bad input (the message names the file, row or setting), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from pyspark.sql import DataFrame, SparkSession

from jobs import builds, delta_io, pipeline
from jobs.builds import DATE_COLUMNS, Build
from jobs.dimensions import DIMENSION_KEYS
from jobs.session import build_spark_session, formatted_plan, history_link
from jobs.settings import ENVIRONMENTS, Settings, SettingsError, load_settings


@dataclass(frozen=True)
class JobContext:
    """What every group of a job run shares."""

    spark: SparkSession
    settings: Settings
    start: dt.date
    end: dt.date
    run_id: str

    def read(self, table: str) -> DataFrame:
        """An input table: the run's range of a daily table, or a whole dimension."""
        path = self.settings.table_uri(*table.split("/"))
        if not delta_io.is_table(self.spark, path):
            raise FileNotFoundError(f"{table} has no Delta table at {path}: run its layer first")
        if table in DATE_COLUMNS:
            return delta_io.read_range(self.spark, path, DATE_COLUMNS[table], self.start, self.end)
        return delta_io.read_table(self.spark, path)


@dataclass(frozen=True)
class Group:
    """Tables computed together, and the build that computes them."""

    tables: tuple[str, ...]
    build: Callable[[JobContext], Build]


def _bronze(dataset: pipeline.DailyDataset) -> Group:
    return Group(
        (f"bronze/{dataset.name}",),
        lambda c: builds.bronze(c.spark, c.settings, dataset, c.start, c.end, c.run_id),
    )


def _dimension(name: str) -> Group:
    return Group(
        (f"silver/{name}",), lambda c: builds.dimension(c.spark, c.settings, name, c.run_id)
    )


def _silver_flights(c: JobContext) -> Build:
    return builds.silver_flights(
        c.settings,
        c.read("bronze/flights"),
        c.read("silver/weather"),
        c.read("silver/planes"),
        c.read("silver/airports"),
        c.read("silver/airlines"),
        c.start,
        c.end,
        c.run_id,
    )


LAYERS: dict[str, list[Group]] = {
    "bronze": [_bronze(pipeline.FLIGHTS), _bronze(pipeline.WEATHER)],
    "silver": [
        *(_dimension(name) for name in DIMENSION_KEYS),
        Group(
            ("silver/weather", "quarantine/weather"),
            lambda c: builds.silver_weather(c.read("bronze/weather"), c.run_id),
        ),
        Group(("silver/flights", "quarantine/flights"), _silver_flights),
    ],
    "gold": [
        Group(
            ("gold/route_daily",),
            lambda c: builds.route_daily(
                c.settings, c.read("silver/flights"), c.start, c.end, c.run_id
            ),
        ),
        Group(
            ("gold/flight_features",),
            lambda c: builds.flight_features(c.read("silver/flights")),
        ),
    ],
}


@dataclass(frozen=True)
class Written:
    """One table's commit, as reported to logs, to ``--report`` and to Dagster."""

    table: str
    uri: str
    rows: int
    delta_version: int
    operation: str
    write_seconds: float
    spark_app_id: str
    history_url: str | None
    plan: str


class LayerObserver(Protocol):
    """Told about each group's audits (before any write) and each table written."""

    def audited(self, build: Build) -> None: ...

    def wrote(self, written: Written) -> None: ...


class Blocked(RuntimeError):
    """A blocking audit failed; nothing of the group was written."""


def write_table(ctx: JobContext, table: str, df: DataFrame) -> Written:
    """Write one output like the Dagster IO manager: a range replace, or a merge on key."""
    path = ctx.settings.table_uri(*table.split("/"))
    plan = formatted_plan(df)
    began = time.monotonic()
    if table in DATE_COLUMNS:
        result = delta_io.write_range(df, path, DATE_COLUMNS[table], ctx.start, ctx.end)
    else:
        result = delta_io.merge_on_key(df, path, DIMENSION_KEYS[table.split("/")[1]])
    app_id = ctx.spark.sparkContext.applicationId
    return Written(
        table=table,
        uri=path,
        rows=result.rows_written,
        delta_version=result.version,
        operation=result.operation,
        write_seconds=round(time.monotonic() - began, 2),
        spark_app_id=app_id,
        history_url=history_link(ctx.settings, app_id),
        plan=plan,
    )


def run_layer(
    ctx: JobContext,
    layer: str,
    tables: Sequence[str] | None = None,
    observer: LayerObserver | None = None,
) -> list[Written]:
    """Build, audit and write every group of ``layer`` (or the groups holding ``tables``)."""
    groups = [g for g in LAYERS[layer] if not tables or set(g.tables) & set(tables)]
    written: list[Written] = []
    for group in groups:
        build = group.build(ctx)
        if observer:
            observer.audited(build)
        failures = build.blocking_failures()
        if failures:
            build.release()
            raise Blocked(
                f"{', '.join(group.tables)} blocked before publishing (previous versions "
                "kept):\n  " + "\n  ".join(failures)
            )
        try:
            for table, df in build.outputs.items():
                written.append(write_table(ctx, table, df))
                if observer:
                    observer.wrote(written[-1])
        finally:
            build.release()
    return written


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def build_parser(layer: str) -> argparse.ArgumentParser:
    tables = [t for g in LAYERS[layer] for t in g.tables]
    parser = argparse.ArgumentParser(
        prog=f"spark-submit jobs/{layer}_job.py",
        description=f"Build the {layer} tables ({', '.join(tables)}) for a date range: the "
        "same code as the Dagster assets, audited before anything is written.",
    )
    parser.add_argument("--env", choices=ENVIRONMENTS, help="settings profile (LAKEHOUSE_ENV)")
    parser.add_argument("--start", type=_date, required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--end", type=_date, required=True, help="last day, YYYY-MM-DD")
    parser.add_argument(
        "--tables", help=f"comma-separated subset of {', '.join(tables)} (default: all)"
    )
    parser.add_argument("--run-id", help="recorded in quarantine rows and reports (default: new)")
    parser.add_argument("--report", type=Path, help="also write what was written as JSON here")
    return parser


def main(
    layer: str, argv: Sequence[str] | None = None, observer: LayerObserver | None = None
) -> int:
    """Run ``layer`` as a spark-submit job; returns the process exit code."""
    args = build_parser(layer).parse_args(argv)
    known = {t for g in LAYERS[layer] for t in g.tables}
    tables = [t.strip() for t in args.tables.split(",")] if args.tables else None
    unknown = sorted(set(tables or ()) - known)
    if unknown:
        print(f"error: not a {layer} table: {', '.join(unknown)}", file=sys.stderr)
        return 2
    if args.end < args.start:
        print(f"error: --end {args.end} is before --start {args.start}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.env)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    spark = build_spark_session(settings, f"flights-lakehouse[{settings.env}] {layer}_job")
    ctx = JobContext(spark, settings, args.start, args.end, args.run_id or str(uuid.uuid4()))
    print(
        f"{layer}_job {args.start}..{args.end} on {settings.env}: Spark app "
        f"{spark.sparkContext.applicationId}, event log in {settings.storage.event_log}",
        flush=True,
    )
    try:
        written = run_layer(ctx, layer, tables, observer)
    except (Blocked, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for w in written:
        print(f"  {w.table:22} {w.rows:>9,} rows, {w.operation} -> Delta version {w.delta_version}")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps([asdict(w) for w in written], indent=1))
    if written and written[0].history_url:
        print(f"history: {written[0].history_url}")
    return 0
