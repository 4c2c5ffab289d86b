"""Benchmark: the same spark-submit jobs on the local disk and on MinIO through S3A.

Usage: .venv/bin/python benchmarks/object_store.py [--start D] [--end D]

Starts a throwaway MinIO on 127.0.0.1 (random credentials), lands the range into a local
root and into the dev bucket, then runs `spark-submit/submit bronze|silver|gold` for the
range on `local` and on `dev` and prints wall-clock seconds per job (each includes about
10 s of JVM and session start-up) and what the bucket holds afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _submit(job: str, start: dt.date, end: dt.date, env: dict[str, str]) -> float:
    began = time.monotonic()
    done = subprocess.run(
        [str(REPO / "spark-submit" / "submit"), job, "--start", str(start), "--end", str(end)],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"{job} failed on {env['LAKEHOUSE_ENV']}:\n{done.stdout[-3000:]}")
    return time.monotonic() - began


def main() -> None:
    from devservers import free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2013, 6, 1))
    parser.add_argument("--end", type=dt.date.fromisoformat, default=dt.date(2013, 6, 30))
    args = parser.parse_args()

    from devservers import minio
    from jobs.io import landing
    from jobs.io.objectstore import s3_client
    from jobs.settings import load_settings

    work = Path(tempfile.mkdtemp(prefix="lakehouse-bench-s3-"))
    key, secret = "bench", secrets.token_hex(16)
    server = minio.start(work / "minio", free_port(), key, secret)
    base = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "LAKEHOUSE__S3__ENDPOINT": server.endpoint,
        "LAKEHOUSE__SPARK__UI_ENABLED": "false",
    }
    envs = {
        name: {**base, "LAKEHOUSE_ENV": name, "LAKEHOUSE_ROOT": str(work / name)}
        for name in ("local", "dev")
    }
    try:
        os.environ.update(envs["dev"])
        dev = load_settings("dev")
        landing.land(landing.landing_target(dev), args.start, args.end)
        landing.land(work / "local" / "landing", args.start, args.end)
        days = (args.end - args.start).days + 1
        print(f"{args.start}..{args.end} ({days} days), MinIO {server.endpoint}")
        print(f"{'job':8} {'local s':>8} {'dev s':>8} {'dev/local':>9}")
        for job in ("bronze", "silver", "gold"):
            local_s = _submit(job, args.start, args.end, envs["local"])
            dev_s = _submit(job, args.start, args.end, envs["dev"])
            print(f"{job:8} {local_s:8.1f} {dev_s:8.1f} {dev_s / local_s:9.2f}")
        pages = s3_client(dev.s3).get_paginator("list_objects_v2").paginate(Bucket="lakehouse-dev")
        sizes = [o["Size"] for page in pages for o in page.get("Contents", [])]
        print(f"bucket lakehouse-dev: {len(sizes):,} objects, {sum(sizes) / 1e6:.1f} MB")
    finally:
        minio.stop(work / "minio")


if __name__ == "__main__":
    main()
