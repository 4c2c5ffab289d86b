"""Benchmark: what Dagster's own bookkeeping costs a range run, with no work in the assets.

Usage: .venv/bin/python benchmarks/bookkeeping.py [--assets 10] [--days 365]
       [--storage shipped|stock] [--planned-subset] [--metadata-kb 0]

Materializes ``--assets`` chained no-op daily assets over ``--days`` days as one run (a
single-run backfill, as `lakehouse run` does) on a fresh persistent SQLite instance and
prints launch (planned events), run and total seconds and the events recorded. ``shipped``
is the instance `lakehouse` uses (conf/dagster/dagster.yaml); ``stock`` is Dagster's default
SQLite storage, for comparison. ``--metadata-kb N`` gives each materialization a text entry
of N KB, as a write's formatted plan (up to 10 KB) is copied onto every day of its range.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetSelection,
    BackfillPolicy,
    DagsterEventType,
    DagsterInstance,
    DailyPartitionsDefinition,
    Definitions,
    MaterializeResult,
    asset,
    define_asset_job,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def measure(
    assets: int, days: int, storage: str, planned_subset: bool = False, metadata_kb: int = 0
) -> dict[str, Any]:
    """One no-op range run on a fresh instance; seconds and event counts."""
    text = "x" * (metadata_kb * 1024)

    partitions = DailyPartitionsDefinition(start_date="2013-01-01", end_date="2014-01-01")

    def noop(name: str, upstream: str | None) -> Any:
        @asset(
            name=name,
            partitions_def=partitions,
            backfill_policy=BackfillPolicy.single_run(),
            deps=[upstream] if upstream else None,
        )
        def _noop(context: AssetExecutionContext) -> MaterializeResult:
            extra = {"text": text} if text else {}
            return MaterializeResult(metadata={"rows": len(context.partition_keys), **extra})

        return _noop

    defs = Definitions(
        assets=[noop(f"a{i}", f"a{i - 1}" if i else None) for i in range(assets)],
        jobs=[define_asset_job("noop", selection=AssetSelection.all())],
    )
    home = Path(tempfile.mkdtemp(prefix="dagster-bookkeeping-"))
    saved = {k: os.environ.get(k) for k in ("DAGSTER_HOME", "DAGSTER_EVENT_BATCH_SIZE")}
    try:
        os.environ["DAGSTER_HOME"] = str(home)
        os.environ.pop("DAGSTER_EVENT_BATCH_SIZE", None)
        if storage == "shipped":
            shutil.copy(REPO_ROOT / "conf" / "dagster" / "dagster.yaml", home / "dagster.yaml")
        if planned_subset:
            os.environ["DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"] = "true"
        instance = DagsterInstance.get()
        first = dt.date(2013, 1, 1)
        last = first + dt.timedelta(days=days - 1)
        began = time.monotonic()
        result = defs.resolve_job_def("noop").execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
        )
        total = time.monotonic() - began
        planned = instance.all_logs(
            result.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        )
        started = instance.get_run_stats(result.run_id).start_time or 0.0
        record = instance.get_run_record_by_id(result.run_id)
        assert record is not None
        created = record.create_timestamp.timestamp()
        return {
            "storage": storage,
            "planned_subset": planned_subset,
            "metadata_kb": metadata_kb,
            "assets": assets,
            "days": days,
            "total_s": round(total, 2),
            "launch_s": round(started - created, 2),
            "materializations": len(result.get_asset_materialization_events()),
            "planned_events": len(planned),
        }
    finally:
        os.environ.pop("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", None)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--storage", choices=["shipped", "stock"], default="shipped")
    parser.add_argument("--planned-subset", action="store_true")
    parser.add_argument("--metadata-kb", type=int, default=0, help="text per materialization")
    args = parser.parse_args()
    print(json.dumps(measure(
        args.assets, args.days, args.storage, args.planned_subset, args.metadata_kb
    )))  # fmt: skip


if __name__ == "__main__":
    main()
