"""Sensors: the landing zone's new drops, and an alert for every failed run.

The landing sensor lists the landing zone (a local folder, or the S3/MinIO prefix on dev
and prod) and remembers each file's content fingerprint in its cursor. A new file, or a
file delivered again with other content, becomes a materialization event of its landing
asset (``landing/flights`` for that day, ``landing/planes`` for a new snapshot); the
automation conditions (``assets/automation.py``) carry it downstream.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from assets.landing import landing_key
from assets.partitions import DAILY_2013
from assets.resources import LakehouseConfig
from jobs.io.landing import DAILY_DATASETS, SNAPSHOT_DATASETS, Drop, list_drops

# On the first tick (no cursor), a drop that was already ingested before the sensor ran
# (`lakehouse run`: its bronze day, or its silver dimension, exists) is remembered, not
# reported again.
INGESTED_BY = {
    **{dataset: AssetKey(["bronze", dataset]) for dataset in DAILY_DATASETS},
    **{dataset: AssetKey(["silver", dataset]) for dataset in SNAPSHOT_DATASETS},
}


def _ingested(instance: DagsterInstance) -> dict[str, set[str]]:
    """Per dataset: the days already in bronze, or ``{"*"}`` for an ingested snapshot."""
    found = {}
    for dataset, key in INGESTED_BY.items():
        if dataset in DAILY_DATASETS:
            found[dataset] = set(instance.get_materialized_partitions(key))
        else:
            found[dataset] = {"*"} if instance.get_latest_materialization_event(key) else set()
    return found


def _changes(
    drops: list[Drop], seen: dict[str, str], ingested: dict[str, set[str]] | None
) -> tuple[list[Drop], list[Drop]]:
    """(daily drops to report, snapshot drops to report) given the cursor ``seen``."""
    days = DAILY_2013.get_partition_keys()
    daily, snapshots = [], []
    newest: dict[str, Drop] = {}
    for drop in drops:
        if drop.dataset in DAILY_DATASETS:
            assert drop.day is not None
            day = drop.day.isoformat()
            if seen.get(drop.name) == drop.fingerprint or day not in days:
                continue
            if ingested is not None and day in ingested[drop.dataset]:
                continue
            daily.append(drop)
        else:
            newest[drop.dataset] = drop  # sorted by name: the newest date wins
    for dataset, drop in newest.items():
        if ingested is not None and "*" in ingested[dataset]:
            continue
        if seen.get(f"{dataset}@current") != drop.fingerprint:
            snapshots.append(drop)
    return daily, snapshots


@sensor(
    name="landing_sensor",
    minimum_interval_seconds=15,
    default_status=DefaultSensorStatus.RUNNING,
    description="Records new or re-delivered landing files (by name and content fingerprint) "
    "as events of the landing assets; automation conditions carry them downstream.",
)
def landing_sensor(
    context: SensorEvaluationContext, lakehouse: LakehouseConfig
) -> SensorResult | SkipReason:
    settings = lakehouse.settings()
    drops, strays = list_drops(settings)
    for name in strays:
        context.log.warning(
            f"landing file {name} is not a dated drop of {settings.pipeline.first_date}.."
            f"{settings.pipeline.last_date}: not read"
        )
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    ingested = _ingested(context.instance) if context.cursor is None else None
    daily, snapshots = _changes(drops, seen, ingested)
    cursor = {d.name: d.fingerprint for d in drops if d.dataset in DAILY_DATASETS}
    current = {d.dataset: d for d in drops if d.dataset in SNAPSHOT_DATASETS}  # newest wins
    cursor |= {f"{name}@current": d.fingerprint for name, d in current.items()}
    events = [
        AssetMaterialization(
            landing_key(d.dataset),
            partition=d.day.isoformat() if d.day and d.dataset in DAILY_DATASETS else None,
            metadata={
                "file": d.name,
                "fingerprint": d.fingerprint,
                "redelivered": d.name in seen,
            },
        )
        for d in [*daily, *snapshots]
    ]
    if not events:
        return SensorResult(
            skip_reason=SkipReason("no new landing files"), cursor=json.dumps(cursor)
        )
    context.log.info(f"{len(events)} new landing file(s): {', '.join(d.name for d in daily[:5])}")
    return SensorResult(asset_events=events, cursor=json.dumps(cursor))


@run_failure_sensor(
    name="run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description="One alert line per failed run in <lakehouse root>/alerts.log, POSTed as JSON "
    "to the webhook in $LAKEHOUSE_ALERT_WEBHOOK when it is set.",
)
def run_failure_alert(context: RunFailureSensorContext, lakehouse: LakehouseConfig) -> None:
    line = alert_line(context)
    context.log.error(line)
    settings = lakehouse.settings()
    log = settings.root / "alerts.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with Path(log).open("a") as handle:
        handle.write(line + "\n")
    webhook = settings.alerts_webhook()
    if webhook:
        request = urllib.request.Request(
            webhook,
            data=json.dumps({"text": line}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).close()


def alert_line(context: RunFailureSensorContext) -> str:
    """``ALERT run <id> (<job>) failed: <first cause>``, on one line."""
    run = context.dagster_run
    message = context.failure_event.message or "failed"
    errors = [e for e in context.get_step_failure_events() if e.step_failure_data.error]
    if errors:
        error = errors[0].step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            message = f"{errors[0].step_key}: {error.message.strip()}"
    first = " ".join(message.split())[:300]
    return f"ALERT run {run.run_id} ({run.job_name}) failed: {first}"
