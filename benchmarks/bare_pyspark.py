"""The pipeline's core work as one bare PySpark script: no Dagster, no gates, no Delta.

Usage: .venv/bin/python benchmarks/bare_pyspark.py --out DIR [--start D] [--end D]
       [--format parquet|delta] [--rerun]

The baseline `make bench` compares `lakehouse run` with. It reads the landed daily files
of the current lakehouse root (`LAKEHOUSE_ROOT`, local profile), applies the project's own
pure transforms (so both sides do the same work: bronze copy, parsing, local times to UTC,
row rules and de-duplication, the weather and planes joins, every gold table) and writes
each table as plain Parquet under ``--out``, overwriting, one pass per table. Left out, as
a hand-written script would leave them: Delta commits, the quality gates (GX suites and
accounting), the quarantine tables, the warehouse load and Dagster's bookkeeping.
``--format delta`` writes (and reads back) each table as a Delta table instead, the bench's
measure of what Delta alone costs the same work. ``--rerun`` recomputes silver flights and
gold only, from the bronze and silver tables an earlier run left in ``--out`` (the bench's
one-day rerun, as a bare script).

Prints one JSON line: seconds from process start, for the session and for the work.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

STARTED = time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder of the tables")
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2013, 1, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2013, 12, 31))
    parser.add_argument("--format", choices=("parquet", "delta"), default="parquet")
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="silver flights and gold only, from the tables an earlier run wrote into --out",
    )
    args = parser.parse_args()

    from pyspark.sql import DataFrame

    from jobs.compose import pipeline
    from jobs.compose.builds import GOLD_TABLES
    from jobs.io.session import build_spark_session
    from jobs.settings import load_settings

    # Planned as the pipeline plans the same days (a small run's settings, or the usual).
    settings = load_settings("local").for_range(args.start, args.end)
    spark = build_spark_session(settings, "bare-pyspark-baseline")
    session_s = time.monotonic() - STARTED
    out, fmt = str(args.out), args.format
    now = dt.datetime.now(dt.UTC)

    def write(frame: DataFrame, name: str) -> None:
        frame.write.format(fmt).mode("overwrite").save(f"{out}/{name}")

    def read(name: str) -> DataFrame:
        return spark.read.format(fmt).load(f"{out}/{name}")

    if args.rerun:  # the inputs of silver flights, as an earlier run into --out wrote them
        dims = {name: read(f"silver_{name}") for name in pipeline.DIMENSION_TYPERS}
        bronze_flights = read("bronze_flights")
    else:
        dims = {name: pipeline.dimension_snapshot(spark, settings, name)[0] for name in
                pipeline.DIMENSION_TYPERS}  # fmt: skip
        for name, frame in dims.items():
            write(frame, f"silver_{name}")
        for dataset in (pipeline.FLIGHTS, pipeline.WEATHER):
            ingest = pipeline.ingest_daily(spark, settings, dataset, args.start, args.end, now)
            write(ingest.rows, f"bronze_{dataset.name}")
            ingest.release()
        bronze_flights = read("bronze_flights")
        write(pipeline.silver_weather(pipeline.check_weather(read("bronze_weather"))),
              "silver_weather")  # fmt: skip
    checked = pipeline.check_flights(
        bronze_flights, dims["airports"], dims["airlines"], settings.quality.max_delay_minutes
    )
    flights = pipeline.silver_flights(checked, read("silver_weather"), dims["planes"])
    write(flights, "silver_flights")
    silver = read("silver_flights")
    for spec in GOLD_TABLES:
        write(spec.transform(silver), spec.table.replace("/", "_"))
    rows = silver.count()
    spark.stop()
    total = time.monotonic() - STARTED
    print(json.dumps({"session_s": round(session_s, 1), "total_s": round(total, 1), "rows": rows}))


if __name__ == "__main__":
    main()
