"""The pipeline's commands: land files, run assets (in this process or launched), wait for
the automation, the warm run worker, and the Dagster UI."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from assets.commands.base import date_range, ensure_dagster_home
from jobs.settings import Settings


def cmd_land(args: argparse.Namespace, settings: Settings) -> int:
    from jobs.io import landing, objectstore

    start, end = date_range(args, settings)
    target = settings.storage.landing
    local = not objectstore.is_object_uri(target)
    if args.faults and not local:
        raise SystemExit(f"--faults edits landed files in place; {target} is not a local folder")
    began = time.monotonic()
    if args.replay:
        return replay(landing.landing_target(settings), target, start, end, args)
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


def replay(target: Any, where: str, start: dt.date, end: dt.date, args: argparse.Namespace) -> int:
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

    return materialize(args, settings, pipeline_selection(args.select))


def materialize(
    args: argparse.Namespace, settings: Settings, selection: str, ranged: bool = True
) -> int:
    """One Dagster run of ``selection`` over the range; prints what it did."""
    from dagster import DagsterInstance

    from assets.console import run_log
    from assets.run_launcher import WORKER_TAG
    from assets.runs import ExecutionResult, launch_range, materialize_range

    start, end = date_range(args, settings)
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
            print(f"  {key:26} {describe_materialization(meta)}")
        print_checks(result.get_asset_check_evaluations())
        status = "succeeded" if result.success else "FAILED"
        print(f"run {result.run_id} {status} in {time.monotonic() - began:.0f}s")
        if not result.success:
            log.report_failures(result)
    return 0 if result.success else 1


def print_checks(evaluations: Sequence[Any]) -> None:
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


def describe_materialization(meta: Mapping[str, Any]) -> str:
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
    start, end = date_range(args, settings)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    ensure_dagster_home(settings)
    with DagsterInstance.get() as instance:
        table = AssetKey(args.table.split("/"))
        return wait_for(instance, table, days, timeout=args.timeout, echo=flushed)


def flushed(line: str) -> None:
    print(line, flush=True)  # a script or a log follows each run as it ends


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Say what this lakehouse's warm run worker is doing, start it ahead of a run, or stop
    it."""
    from assets import run_worker

    home = ensure_dagster_home(settings)
    if args.wait and not args.start:
        print("lakehouse worker: --wait goes with --start")
        return 2
    if args.start:
        return _start_worker(home, settings, args.timeout if args.wait else None)
    if args.stop:
        stopped = run_worker.stop(home)
        print("run worker stopped" if stopped else "run worker still running (a run is long?)")
        return 0 if stopped else 1
    said = run_worker.status(home)
    if said is None:
        print("no run worker (the next launched run starts one)")
    else:
        if said["run_id"]:
            doing = f"executing run {said['run_id']}"
        else:
            doing = "warming up" if said.get("warming_up") else "idle"
        print(f"run worker pid {said['pid']}: {doing}, {said['runs_done']} runs done")
    return 0


def _start_worker(home: Path, settings: Settings, wait: float | None) -> int:
    """`lakehouse worker --start [--wait]`: start the worker ahead of the next run; given
    ``wait`` (seconds), return only once it is warm."""
    from assets import run_worker
    from assets.run_launcher import start_worker

    started = start_worker(home, settings)
    if started is None:
        print("this instance's runs do not go to a warm run worker (see its run_launcher)")
        return 1
    pid, new = started
    print(f"run worker pid {pid}: " + ("starting" if new else "already running"), flush=True)
    if wait is None:
        return 0
    try:
        waited = run_worker.wait_warm(home, pid, wait)
    except RuntimeError as exc:
        logs = sorted(settings.logs_dir.glob("run-worker-*.log"), key=lambda p: p.stat().st_mtime)
        print(f"{exc}; its log: {logs[-1] if logs else settings.logs_dir}")
        return 1
    print(f"run worker pid {pid}: warm after {waited:.1f} s")
    return 0


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    home = ensure_dagster_home(settings)
    print(f"DAGSTER_HOME={home}; open http://{args.host}:{args.port}")
    command = [sys.executable, "-m", "dagster", "dev", "-m", "assets.definitions"]
    command += ["-h", args.host, "-p", str(args.port)]
    os.execvpe(command[0], command, {**os.environ, "LAKEHOUSE_ENV": settings.env})
    return 0  # not reached
