"""Benchmark: land all of 2013 and run the whole pipeline for it as one Dagster run.

Usage: .venv/bin/python benchmarks/full_year.py [--root DIR] [--start D] [--end D]

Prints the landing time, the run's wall time split into building the frames, Delta writes,
warehouse loads and gates, each asset's Delta write time and rows,
and throughput. Uses a fresh lakehouse root (a temporary folder unless --root is given),
the local profile and the machine as it is: run it on an idle machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="lakehouse root to use (default: a temp dir)")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2013, 1, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2013, 12, 31))
    parser.add_argument(
        "--instance",
        choices=["persistent", "ephemeral"],
        default="persistent",
        help="persistent: the SQLite Dagster instance under the root, as `lakehouse run` "
        "uses (default); ephemeral: in memory, to see the cost of recording events",
    )
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="lakehouse-bench-"))
    os.environ["LAKEHOUSE_ROOT"] = str(root)
    os.environ.setdefault("LAKEHOUSE__SPARK__UI_ENABLED", "false")

    from dagster import DagsterInstance

    from assets.commands.base import ensure_dagster_home
    from assets.runs import failure_messages, materialize_range
    from jobs.io import landing
    from jobs.settings import load_settings

    settings = load_settings("local")
    began = time.monotonic()
    landed = landing.land(Path(settings.storage.landing), args.start, args.end)
    land_s = time.monotonic() - began
    flights = sum(f.rows for f in landed if f.dataset == "flights")

    began = time.monotonic()
    instance = None
    if args.instance == "persistent":
        os.environ.pop("DAGSTER_HOME", None)
        ensure_dagster_home(settings)
        instance = DagsterInstance.get()
    result = materialize_range(args.start, args.end, instance=instance, log_level="WARNING")
    run_s = time.monotonic() - began
    if not result.success:
        raise SystemExit("run failed:\n" + "\n".join(failure_messages(result)))

    print(f"range            {args.start}..{args.end} ({(args.end - args.start).days + 1} days)")
    print(f"cores            {os.cpu_count()}  (local profile, {settings.spark.master})")
    print(f"land             {land_s:7.1f} s  ({flights:,} flights)")
    print(
        f"run              {run_s:7.1f} s  (one Dagster run of every asset, {args.instance} "
        "instance, incl. Spark start)"
    )
    print(f"throughput       {flights / run_s:,.0f} flights/s end to end")
    latest = {}
    events = result.get_asset_materialization_events()
    for event in events:
        latest[event.materialization.asset_key.to_user_string()] = event.materialization.metadata

    def number(meta: Mapping[str, Any], name: str) -> float:
        value = meta.get(name)
        return float(value.value) if value is not None else 0.0

    def seconds(meta: Mapping[str, Any]) -> float:
        return number(meta, "write_seconds") or number(meta, "load_seconds")

    # a multi-asset's build is recorded once, on its first output (jobs/compose/builds.py)
    build_s = sum(number(meta, "build_seconds") for meta in latest.values())
    spark_s = sum(seconds(meta) for key, meta in latest.items() if not key.startswith("warehouse/"))
    load_s = sum(seconds(meta) for key, meta in latest.items() if key.startswith("warehouse/"))
    print(f"  of which building the frames (Spark work before the gates) {build_s:7.1f} s")
    print(f"  of which Delta writes (with the Spark work they trigger) {spark_s:7.1f} s")
    print(f"  of which warehouse loads (DuckDB)                        {load_s:7.1f} s")
    print(f"  materialization events recorded: {len(events):,} (one per asset and day)")
    audit_s = 0.0
    for check in result.get_asset_check_evaluations():
        value: Any = check.metadata.get("audit_seconds")
        audit_s += float(value.value) if value is not None else 0.0
    print(
        f"  of which quality gates (GX suites, accounting, reports) {audit_s:7.1f} s "
        f"= {100 * audit_s / (run_s - audit_s):.0f}% on top of the run without them"
    )
    print("per asset:")
    for key, meta in sorted(latest.items(), key=lambda kv: -seconds(kv[1])):
        print(f"  {key:26} {seconds(meta):7.1f} s {meta['dagster/row_count'].value:>9,} rows")


if __name__ == "__main__":
    main()
