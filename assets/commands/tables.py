"""The commands that look after tables: status, health, maintenance, quality results, and
the warehouse (a load, its dry run, a query)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from assets.commands.base import command_spark, date_range, ensure_dagster_home
from assets.commands.pipeline import cmd_run
from jobs.settings import Settings, load_settings


def cmd_maintain(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.io import maintenance

    if (args.start is None) != (args.end is None):
        print("lakehouse maintain: give both --start and --end, or neither (whole tables)")
        return 2
    span = f"{args.start}..{args.end}" if args.start else "whole tables"
    retention = settings.maintenance.vacuum_retention_hours
    print(f"maintaining {span} on {settings.env} (VACUUM retention {retention} h)")
    spark = command_spark(settings, "maintain", (args.start, args.end))
    for table in maintenance.maintain(spark, settings, args.start, args.end):
        print(f"  {table.describe()}")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    """Per table: version, rows, dates and newest commit, read from the logs (no JVM)."""
    from jobs.io import delta_log
    from jobs.tables import delta_tables

    header = f"{'table':22} {'version':>7} {'rows':>10} {'dates':>5}  {'range':23} updated"
    print(header)
    for t in delta_tables():
        table = t.key
        s = delta_log.table_summary(settings.table_uri(*t.path), t.date_column, settings.s3)
        if s is None:
            print(f"{table:22} {'-':>7}  (not materialized)")
            continue
        span = f"{s.first}..{s.last}" if s.first else ""
        dates = s.dates if s.dates is not None else ""
        print(
            f"{table:22} {s.version:>7} {s.rows:>10,} {dates:>5}  {span:23} "
            f"{s.updated:%Y-%m-%d %H:%M:%S}"
        )
    print(f"{'ml/delay_model':22} {champion_line(settings)}")
    print(f"tables under {settings.storage.tables}")
    return 0


def champion_line(settings: Settings) -> str:
    """The model's champion in a few words, without creating an MLflow store to say so."""
    ml = settings.ml
    store = ml.tracking_uri.removeprefix("sqlite:///")
    if ml.tracking_uri.startswith("sqlite:///") and not Path(store).exists():
        return "(not trained: `lakehouse train`)"
    from jobs.io import model_registry

    try:
        champion = model_registry.champion(ml)
    except Exception as exc:  # an unreachable tracking server must not break status
        return f"(MLflow at {ml.tracking_uri} not reachable: {str(exc).splitlines()[0][:80]})"
    if champion is None:
        return "(no champion yet)"
    return (
        f"champion: version {champion.version}, trained to {champion.tags.get('training_cutoff')}"
        f", holdout PR AUC {champion.tags.get('pr_auc')}  ({ml.tracking_uri})"
    )


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """One line per probe of what the profile uses; non-zero when any failed."""
    from dagster import DagsterInstance

    from assets.health import all_probes

    ensure_dagster_home(settings)
    with DagsterInstance.get() as instance:
        probes = all_probes(settings, command_spark(settings, "health"), instance)
    for line in [p.line() for p in probes if p.ok]:
        print(line)
    failed = [p for p in probes if not p.ok]
    for probe in failed:
        print(probe.line(), file=sys.stderr)
    print(f"{settings.env}: {len(probes) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0


def cmd_warehouse_load(args: argparse.Namespace, settings: Settings) -> int:
    start, end = date_range(args, settings)
    if not args.dry_run:
        args.select = "group:warehouse"
        return cmd_run(args, settings)
    from warehouse.load import plan_table
    from warehouse.tables import WAREHOUSE_TABLES

    # Table schemas come from this environment's lakehouse, or from --schema-env (e.g. plan
    # a prod load from a laptop's local tables, without AWS access).
    source = load_settings(args.schema_env) if args.schema_env else settings
    spark = command_spark(source, "warehouse dry-run")
    planned = source.model_copy(update={"warehouse": settings.warehouse})
    print(
        f"-- dry run: {settings.env} {settings.warehouse.backend} warehouse, {start}..{end}, "
        f"schemas from the {source.env} lakehouse; nothing is executed"
    )
    for spec in WAREHOUSE_TABLES.values():
        bounds = (start, end) if spec.partitioned else (None, None)
        print(plan_table(spark, planned, spec, *bounds), end="\n\n")
    return 0


def cmd_warehouse_query(args: argparse.Namespace, settings: Settings) -> int:
    from assets.resources import build_resources

    if settings.warehouse.backend == "redshift":
        raise SystemExit(
            "`warehouse query` reads DuckDB or PostgreSQL; use the Redshift query editor"
        )
    try:
        names, rows = build_resources(settings.env)["warehouse"].query(args.sql)
    except Exception as exc:  # the database's own message says what is wrong
        print(f"lakehouse: query failed: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 1
    widths = [max([len(n), *(len(str(r[i])) for r in rows)]) for i, n in enumerate(names)]
    print("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return 0


def cmd_quality(args: argparse.Namespace, settings: Settings) -> int:
    from expectations.context import quality_context
    from expectations.gate import latest_reports

    context = quality_context(settings)
    if args.docs:
        print(context.docs_index())
        return 0
    if args.date is None:
        print("lakehouse quality: give --date YYYY-MM-DD, or --docs for the Data Docs index")
        return 2
    latest = latest_reports(context, args.date)
    if not latest:
        print(f"no gate results cover {args.date} in {settings.storage.quality}: "
              "run `lakehouse run` first")  # fmt: skip
        return 1
    for suite, report in sorted(latest.items()):
        span = f"{report.start}..{report.end}" if report.start else "whole table"
        failed = len(report.failed(True)) + len(report.failed(False))
        print(f"{suite}  ({span}, run {report.run_id}, {report.validated_at}, {failed} failed)")
        for outcome in report.outcomes:
            severity = "blocking" if outcome.blocking else "warning "
            print(f"  [{severity}] {outcome.describe()}")
        print(f"  data docs: {report.page}")
    print_quarantine(settings, args.date)
    return 0


def print_quarantine(settings: Settings, day: dt.date) -> None:
    """The reasons rows of ``day`` were quarantined for, counted per table (no JVM)."""
    import pyarrow.compute as pc

    from jobs.io import delta_log
    from jobs.tables import delta_tables

    for t in delta_tables():
        if t.layer != "quarantine" or not t.date_column:
            continue
        path = settings.table_uri(*t.path)
        rows = delta_log.day_rows(path, t.date_column, day, ["reasons"], settings.s3)
        if rows is None:
            continue
        counted = pc.value_counts(pc.list_flatten(rows.column("reasons"))).to_pylist()
        reasons = sorted((c["values"], c["counts"]) for c in counted)
        summary = ", ".join(f"{reason}: {count}" for reason, count in reasons) or "none"
        print(f"{t.key} on {day}: {summary}")
