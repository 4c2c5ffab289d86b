"""``lakehouse wait``: until the automation has carried the newest drops of some days into a
table, for scripts and walkthroughs that drop days into landing while the daemon runs
(README: Automation).

A day is done when the table's newest materialization of it is newer than the day's newest
landing event (the landing sensor's record of a drop; a day never recorded only needs to be
materialized). It has failed when a run for that day, created after that drop, failed or
was canceled. Only the Dagster instance is read: no JVM starts.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dagster import (
    AssetKey,
    AssetRecordsFilter,
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    RunRecord,
    RunsFilter,
)

from assets.landing import landing_key
from assets.partitions import run_dates
from jobs.io.landing import DAILY_DATASETS

FAILED = (DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED)


def _newest(instance: DagsterInstance, key: AssetKey, day: dt.date) -> float | None:
    """When ``key``'s day ``day`` was last materialized (an instance timestamp), if ever."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, asset_partitions=[day.isoformat()]), limit=1
    ).records
    return records[0].timestamp if records else None


def landed_at(instance: DagsterInstance, day: dt.date) -> float:
    """When the newest drop of ``day`` was recorded (0 when none was)."""
    stamps = [_newest(instance, landing_key(d), day) for d in DAILY_DATASETS]
    return max([s for s in stamps if s is not None], default=0.0)


def covers(record: RunRecord, days: Sequence[dt.date]) -> list[dt.date]:
    """The days of ``days`` the run is for (none for a run that is not for days)."""
    dates = run_dates(record.dagster_run.tags)
    return [d for d in days if dates and dates[0] <= d <= dates[1]]


def run_line(instance: DagsterInstance, record: RunRecord) -> str:
    """``run 8d2fa949 SUCCESS 2013-01-15..2013-01-16: bronze/flights, ... (12 assets)``: the
    assets it was launched for (a run of a whole job: those it materialized)."""
    run = record.dagster_run
    dates = run_dates(run.tags)
    span = f" {dates[0]}..{dates[1]}" if dates else ""
    selected: set[AssetKey | None] = set(run.asset_selection or ()) or {
        entry.get_dagster_event().asset_key
        for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    }
    keys = sorted(k.to_user_string() for k in selected if k is not None)
    shown = ", ".join(keys[:3]) + (f", ... ({len(keys)} assets)" if len(keys) > 3 else "")
    return f"run {run.run_id[:8]} {run.status.value}{span}: {shown}"


def first_error(instance: DagsterInstance, run_id: str) -> str:
    """The first failed step's error, one line, or the run's failure message."""
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = entry.get_dagster_event()
        error = event.step_failure_data.error if event.step_failure_data else None
        if error is not None:
            return f"{event.step_key}: {error.message.strip().splitlines()[0]}"
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE):
        return (entry.message or "").strip().splitlines()[0] if entry.message else ""
    return ""


@dataclass
class Progress:
    """What one look at the instance found."""

    pending: list[dt.date]  # days the table does not have since their newest drop
    runs: list[RunRecord]  # runs for the days, created after their newest drop
    failed: list[RunRecord]


def look(instance: DagsterInstance, table: AssetKey, days: Sequence[dt.date]) -> Progress:
    """Where ``days`` of ``table`` stand (module docstring)."""
    since = {day: landed_at(instance, day) for day in days}
    pending = [d for d in days if (_newest(instance, table, d) or -1.0) <= since[d]]
    created_after = dt.datetime.fromtimestamp(min(since.values()), dt.UTC)
    runs = [
        r
        for r in instance.get_run_records(RunsFilter(created_after=created_after))
        if any(r.create_timestamp.timestamp() > since[d] for d in covers(r, days))
    ]
    failed = [r for r in runs if r.dagster_run.status in FAILED and covers(r, pending)]
    return Progress(pending, runs, failed)


def wait_for(
    instance: DagsterInstance,
    table: AssetKey,
    days: Sequence[dt.date],
    *,
    timeout: float,
    every: float = 5.0,
    echo: Callable[[str], None] = print,
) -> int:
    """Wait until ``table`` has the newest drops of ``days`` and the runs that brought them
    have ended (0), or until a run for a missing day fails or ``timeout`` seconds pass (1,
    saying why); each run for the days is echoed once, when it ends."""
    began, shown = time.monotonic(), set()
    name, span = table.to_user_string(), f"{days[0]}..{days[-1]}"
    while True:
        progress = look(instance, table, days)
        for record in reversed(progress.runs):  # oldest first
            if record.dagster_run.is_finished and record.dagster_run.run_id not in shown:
                shown.add(record.dagster_run.run_id)
                echo(run_line(instance, record))
        if progress.failed:
            for record in progress.failed:
                echo(f"error: {run_line(instance, record)}")
                echo(f"  {first_error(instance, record.dagster_run.run_id)}")
            echo(f"{name}: {span} not materialized; see the failed runs in the Dagster UI")
            return 1
        waited = time.monotonic() - began
        running = [r for r in progress.runs if not r.dagster_run.is_finished]
        if not progress.pending and (not running or waited > timeout):
            for record in running:  # still going after the timeout: as they stand
                echo(run_line(instance, record))
            echo(f"{name}: {span} materialized after {waited:.0f} s")
            return 0
        if waited > timeout:
            missing = ", ".join(map(str, progress.pending))
            echo(f"error: {name} still lacks {missing} after {timeout:.0f} s")
            for record in running:
                echo(f"  {run_line(instance, record)}")
            if not progress.runs:
                echo("  no run for those days has started: is the daemon running (lakehouse ui)?")
            return 1
        time.sleep(every)
