"""The spark-submit side of every layer: read inputs, build, audit, write, report.

``bronze_job.py``, ``silver_job.py`` and ``gold_job.py`` beside this module are thin entry points
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
import uuid
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from pyspark.sql import DataFrame, SparkSession

from expectations.context import GATE_IMPORTS, open_meanwhile
from jobs.compose import builds, pipeline, scoring, training
from jobs.compose.builds import Blocked, Build
from jobs.io import table_io
from jobs.io.model_registry import MODEL_IMPORTS
from jobs.io.session import application_name, build_spark_session
from jobs.io.table_io import TableWrite
from jobs.settings import ENVIRONMENTS, Settings, SettingsError, load_settings
from jobs.tables import TABLES, table


@dataclass(frozen=True)
class JobContext:
    """What every group of a job run shares."""

    spark: SparkSession
    settings: Settings
    start: dt.date
    end: dt.date
    run_id: str

    def read(self, key: str) -> DataFrame:
        """An input table: the run's range of a daily table, or a whole dimension."""
        return table_io.read_input(self.spark, self.settings, table(key), self.start, self.end)


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


def _gold(spec: builds.GoldTable) -> Group:
    return Group(
        (spec.table,),
        lambda c: builds.gold_table(
            spec, c.settings, c.read("silver/flights"), c.start, c.end, c.run_id
        ),
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
        *(_dimension(t.name) for t in TABLES.values() if t.job == "silver" and t.merge_key),
        Group(
            ("silver/weather", "quarantine/weather"),
            lambda c: builds.silver_weather(c.read("bronze/weather"), c.run_id),
        ),
        Group(("silver/flights", "quarantine/flights"), _silver_flights),
    ],
    "gold": [_gold(spec) for spec in builds.GOLD_TABLES],
    "ml": [
        Group((training.MODEL,), lambda c: training.training_build(c.spark, c.settings)),
        Group(
            (scoring.PREDICTIONS,),
            lambda c: scoring.delay_predictions(
                c.settings, c.read(training.FEATURES_TABLE), c.start
            ),
        ),
    ],
}


class LayerObserver(Protocol):
    """Told about each group's audits (before any write), each table written, and what a
    group made that is not a table (a model version), after its tables."""

    def audited(self, build: Build) -> None: ...

    def wrote(self, written: TableWrite) -> None: ...

    def reported(self, key: str, metadata: dict[str, dict[str, Any]]) -> None: ...


def run_layer(
    ctx: JobContext,
    layer: str,
    tables: Sequence[str] | None = None,
    observer: LayerObserver | None = None,
) -> list[TableWrite]:
    """Build, audit and write every group of ``layer`` (or the groups holding ``tables``)."""
    groups = [g for g in LAYERS[layer] if not tables or set(g.tables) & set(tables)]
    written: list[TableWrite] = []
    for group in groups:
        build = group.build(ctx)
        if observer:
            observer.audited(build)
        with closing(builds.publishable(build)) as outputs:
            for target, df, build_seconds in outputs:
                done = table_io.write_table(ctx.settings, target, df, ctx.start, ctx.end)
                done = replace(done, build_seconds=build_seconds)
                written.append(done)
                if observer:
                    observer.wrote(done)
        for key, metadata in build.reports.items():
            print(f"  {key:22} {metadata_line(metadata)}", flush=True)
            if observer:
                observer.reported(key, metadata)
    return written


def metadata_line(metadata: dict[str, dict[str, Any]]) -> str:
    """A non-table report in one line: its scalar entries, ``key=value``."""
    return ", ".join(
        f"{k}={v['raw_value']}" for k, v in metadata.items() if v["type"] in ("int", "bool", "text")
    )


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def build_parser(layer: str) -> argparse.ArgumentParser:
    tables = [t for g in LAYERS[layer] for t in g.tables]
    parser = argparse.ArgumentParser(
        prog=f"spark-submit jobs/entrypoints/{layer}_job.py",
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
        settings = load_settings(args.env).for_range(args.start, args.end)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    imports = MODEL_IMPORTS if layer == "ml" else GATE_IMPORTS
    spark = build_spark_session(settings, application_name(settings, f"{layer}_job"), imports)
    if imports == GATE_IMPORTS:
        open_meanwhile(settings)  # while the job's first Spark work runs
    ctx = JobContext(spark, settings, args.start, args.end, args.run_id or str(uuid.uuid4()))
    print(
        f"{layer}_job {args.start}..{args.end} on {settings.env}: Spark app "
        f"{spark.sparkContext.applicationId}, event log in {settings.storage.event_log}",
        flush=True,
    )
    try:
        written = run_layer(ctx, layer, tables, observer)
    except (Blocked, FileNotFoundError, ValueError) as exc:  # incl. no model for the days
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
