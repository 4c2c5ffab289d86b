"""Rows and a content digest of every Delta table under a lakehouse root.

Compares two runs (before and after a change, local and dev, two machines): per-run
columns (ingestion time, run id) are left out and source files are named relative to the
landing folder, so equal tables print equal digests.

    .venv/bin/python benchmarks/table_digest.py --root DIR [--root OTHER]

With two roots it prints both side by side and exits 1 when a table both have differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.io import delta_io
from jobs.io.session import build_spark_session
from jobs.settings import load_settings

PER_RUN = ("_ingested_at", "_run_id")


def digest(df: DataFrame, landing: str) -> tuple[int, str]:
    """Rows and an order-independent digest (sum of row hashes) of ``df``."""
    df = df.drop(*PER_RUN)
    if "_source_file" in df.columns:
        df = df.withColumn("_source_file", F.regexp_replace("_source_file", f"^.*{landing}/", ""))
    columns = sorted(df.columns)  # column order does not change content
    row = df.agg(
        F.count(F.lit(1)).alias("rows"),
        F.sum(F.xxhash64(*columns).cast("decimal(38,0)")).alias("digest"),
    ).first()
    assert row is not None
    return int(row["rows"]), f"{int(row['digest'] or 0) & (2**64 - 1):016x}"


def tables(spark: SparkSession, root: Path) -> dict[str, tuple[int, str]]:
    found = {}
    for folder in sorted(p for p in root.glob("*/*") if (p / "_delta_log").is_dir()):
        key = f"{folder.parent.name}/{folder.name}"
        found[key] = digest(delta_io.read_table(spark, str(folder)), "landing")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, action="append", required=True)
    args = parser.parse_args(argv)
    spark = build_spark_session(load_settings("local"), "table digest")
    found = [tables(spark, root) for root in args.root]
    keys = sorted(set().union(*found))
    differ = False
    for key in keys:
        cells = [f"{t[key][0]:>10,} {t[key][1]}" if key in t else f"{'-':>27}" for t in found]
        same = len({t[key] for t in found if key in t}) == 1
        present = sum(key in t for t in found)
        differ |= not same and present > 1
        mark = "" if len(found) == 1 or present < 2 else ("  same" if same else "  DIFFERS")
        print(f"{key:24} " + "   ".join(cells) + mark)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
