"""Benchmark: loading gold/flight_features into a real PostgreSQL server, three ways.

Usage: .venv/bin/python benchmarks/warehouse_load.py --root DIR [--start D] [--end D]

DIR is a lakehouse root whose gold tables are materialized (e.g. after `make demo`:
.lakehouse). Starts a throwaway PostgreSQL on 127.0.0.1, then times, for the same rows:
  1. the warehouse load (Spark -> Arrow -> COPY FROM STDIN in one transaction),
  2. Spark JDBC with batched inserts (batchsize 10,000, rewriteBatchedInserts) into a table,
  3. a plain COPY of the same rows from a CSV file already on disk (the floor).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import tempfile
import time
from pathlib import Path


def main() -> None:
    from devservers import free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2013, 1, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2013, 12, 31))
    args = parser.parse_args()
    os.environ["LAKEHOUSE_ROOT"] = str(args.root.resolve())
    os.environ.setdefault("LAKEHOUSE__SPARK__UI_ENABLED", "false")

    import psycopg
    import pyarrow.csv as pacsv

    from devservers import postgres as pgserver
    from jobs.io import delta_io, export
    from jobs.io.session import build_spark_session
    from jobs.settings import load_settings
    from warehouse.sqlwarehouse import PostgresWarehouse, utc_naive
    from warehouse.tables import WAREHOUSE_TABLES

    settings = load_settings("local")
    spark = build_spark_session(settings, "benchmark warehouse load")
    spec = WAREHOUSE_TABLES["flight_features"]
    path = settings.table_uri(*spec.source)
    df = delta_io.read_range(spark, path, "flight_date", args.start, args.end).cache()
    rows = df.count()

    password = secrets.token_urlsafe(12)
    os.environ["BENCH_PG_PASSWORD"] = password
    folder = Path(tempfile.mkdtemp(prefix="lakehouse-bench-pg-"))
    server = pgserver.start(folder, free_port(), password)
    try:
        target = PostgresWarehouse(
            "127.0.0.1", server.port, server.database, server.user, "BENCH_PG_PASSWORD", "bench"
        )
        began = time.monotonic()
        data = export.to_arrow(df)
        collected = time.monotonic() - began
        result = target.load(spec, data, args.start, args.end)
        ours = time.monotonic() - began

        jdbc_url = f"jdbc:postgresql://127.0.0.1:{server.port}/{server.database}?rewriteBatchedInserts=true"
        began = time.monotonic()
        (
            df.write.format("jdbc")
            .option("url", jdbc_url)
            .option("dbtable", "bench.jdbc_flight_features")
            .option("user", server.user)
            .option("password", password)
            .option("driver", "org.postgresql.Driver")
            .option("batchsize", 10_000)
            .mode("overwrite")
            .save()
        )
        jdbc = time.monotonic() - began

        csv_file = folder / "flight_features.csv"
        pacsv.write_csv(utc_naive(data), str(csv_file))
        with psycopg.connect(server.conninfo(password)) as conn:
            conn.execute("CREATE TABLE bench.plain (LIKE bench.flight_features)")
            began = time.monotonic()
            with (
                conn.cursor().copy("COPY bench.plain FROM STDIN (FORMAT csv, HEADER true)") as copy,
                open(csv_file, "rb") as handle,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            conn.commit()
            plain = time.monotonic() - began
    finally:
        pgserver.stop(folder)

    span = f"{args.start}..{args.end}"
    print(f"rows             {rows:,} (gold/flight_features {span}, {len(df.columns)} columns)")
    print(
        f"warehouse load   {ours:6.1f} s  {rows / ours:>9,.0f} rows/s  "
        f"(collect to Arrow {collected:.1f} s, then COPY + delete/insert {result.seconds:.1f} s)"
    )
    print(
        f"Spark JDBC       {jdbc:6.1f} s  {rows / jdbc:>9,.0f} rows/s  "
        "(batchsize 10,000, rewriteBatchedInserts)"
    )
    print(
        f"plain COPY       {plain:6.1f} s  {rows / plain:>9,.0f} rows/s  (CSV file already on disk)"
    )


if __name__ == "__main__":
    main()
