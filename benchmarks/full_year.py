"""Benchmark: land all of 2013 and run the whole pipeline for it as one Dagster run.

Usage: .venv/bin/python benchmarks/full_year.py [--root DIR] [--start D] [--end D]

Prints the landing time, the run's wall time, each asset's Delta write time and rows,
and throughput. Uses a fresh lakehouse root (a temporary folder unless --root is given),
the local profile and the machine as it is: run it on an idle machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="lakehouse root to use (default: a temp dir)")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2013, 1, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2013, 12, 31))
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp(prefix="lakehouse-bench-"))
    os.environ["LAKEHOUSE_ROOT"] = str(root)
    os.environ.setdefault("LAKEHOUSE__SPARK__UI_ENABLED", "false")

    from assets.runs import failure_messages, materialize_range
    from jobs import landing
    from jobs.settings import load_settings

    settings = load_settings("local")
    began = time.monotonic()
    landed = landing.land(Path(settings.storage.landing), args.start, args.end)
    land_s = time.monotonic() - began
    flights = sum(f.rows for f in landed if f.dataset == "flights")

    began = time.monotonic()
    result = materialize_range(args.start, args.end, log_level="WARNING")
    run_s = time.monotonic() - began
    if not result.success:
        raise SystemExit("run failed:\n" + "\n".join(failure_messages(result)))

    print(f"range            {args.start}..{args.end} ({(args.end - args.start).days + 1} days)")
    print(f"cores            {os.cpu_count()}  (local profile, {settings.spark.master})")
    print(f"land             {land_s:7.1f} s  ({flights:,} flights)")
    print(f"run (one Dagster run, all assets, incl. Spark start)  {run_s:7.1f} s")
    print(f"throughput       {flights / run_s:,.0f} flights/s end to end")
    print("per asset (Delta write incl. the Spark work it triggers):")
    latest = {}
    for event in result.get_asset_materialization_events():
        latest[event.materialization.asset_key.to_user_string()] = event.materialization.metadata
    for key, meta in sorted(latest.items(), key=lambda kv: -kv[1]["write_seconds"].value):
        print(
            f"  {key:22} {meta['write_seconds'].value:7.1f} s "
            f"{meta['dagster/row_count'].value:>9,} rows"
        )


if __name__ == "__main__":
    main()
