"""The dev profile: the same pipeline on MinIO (through S3A) and PostgreSQL, configuration only.

The dev run is a separate process with its own lakehouse root, as a user would start it;
the local run of the same days is this process's. Both are read back with Spark, the dev
tables through S3A, and must hold the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from assets.cli import main
from devservers import free_port
from jobs.io import delta_io
from jobs.io.objectstore import s3_client, split_uri
from jobs.io.session import build_spark_session
from jobs.settings import REPO_ROOT, Settings, load_settings
from jobs.tables import delta_tables
from tests.cli import in_process, lakehouse
from tests.reference import comparable

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.postgres]

START = END = dt.date(2013, 7, 1)  # one day: the README dev walkthrough runs two
RANGE = ["--start", START.isoformat(), "--end", END.isoformat()]
TABLES = [t.key for t in delta_tables() if t.layer != "ml"]  # ML: tests/assets/test_ml.py


def dev_environment(root: Path, minio_endpoint: str, pg_port: int, pg_password: str) -> dict:
    """The environment a user sets for dev: the profile, where MinIO and PostgreSQL listen."""
    return {
        **os.environ,
        "LAKEHOUSE_ENV": "dev",
        "LAKEHOUSE_ROOT": str(root),
        "LAKEHOUSE__S3__ENDPOINT": minio_endpoint,
        "LAKEHOUSE__WAREHOUSE__PORT": str(pg_port),
        "LAKEHOUSE_WAREHOUSE_PASSWORD": pg_password,
        "DAGSTER_HOME": str(root / "dagster"),
    }


@pytest.fixture(scope="module")
def dev_run(tmp_path_factory, minio_server, postgres_server, spark):
    root = tmp_path_factory.mktemp("dev-root")
    server, password = postgres_server
    env = dev_environment(root, minio_server.endpoint, server.port, password)
    output = lakehouse(["land", *RANGE], env) + lakehouse(["run", *RANGE], env)
    settings = load_settings("dev", environ=env)
    return settings, root, output


@pytest.fixture(scope="module")
def local_run(spark, settings):
    assert main(["land", *RANGE]) == 0
    assert main(["run", *RANGE]) == 0
    return settings


def table_rows(spark: SparkSession, settings: Settings, table: str) -> DataFrame:
    df = delta_io.read_table(spark, settings.table_uri(*table.split("/")))
    return comparable(df, settings.storage.landing, table, START, END)


def test_landing_and_tables_live_in_the_bucket(dev_run):
    settings, _, output = dev_run
    assert settings.storage.tables == "s3a://lakehouse-dev"
    assert "into s3a://lakehouse-dev/landing" in output


@pytest.mark.parametrize("table", TABLES)
def test_dev_tables_hold_the_same_rows_as_local(dev_run, local_run, spark, table):
    dev_settings = dev_run[0]
    build_spark_session(dev_settings, "pytest")  # this process reads MinIO through S3A too
    dev = table_rows(spark, dev_settings, table)
    local = table_rows(spark, local_run, table)
    assert dev.count() > 0 or table.startswith("quarantine")
    assert_df_equality(dev, local, ignore_row_order=True, ignore_nullable=True)


def test_the_dev_warehouse_is_postgres_with_the_gold_rows(dev_run, postgres_server):
    import psycopg

    settings, _, _ = dev_run
    server, password = postgres_server
    with psycopg.connect(server.conninfo(password)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM gold.flight_features WHERE flight_date BETWEEN %s AND %s",
            (START, END),
        ).fetchone()
    silver = delta_io.read_table(
        build_spark_session(settings, "pytest"), settings.table_uri("silver", "flights")
    )
    assert row is not None
    assert row[0] == silver.where(F.col("flight_date").between(START, END)).count()


def bucket_objects(settings: Settings, uri: str) -> dict[str, bytes]:
    """The objects under ``uri`` in the dev bucket, by key."""
    client = s3_client(settings.s3)
    bucket, prefix = split_uri(uri)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", []) if o["Size"]]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def event_logs(settings: Settings) -> dict[str, bytes]:
    """The Spark event logs of the dev bucket, by key."""
    return bucket_objects(settings, settings.storage.event_log)


def test_gate_results_and_data_docs_live_in_the_bucket(dev_run, minio_server, capsys):
    settings, root, _ = dev_run
    assert settings.storage.quality == "s3a://lakehouse-dev/quality"
    keys = set(bucket_objects(settings, settings.storage.quality))
    span = f"{START}..{END}_run-"
    for suite in ("bronze_flights", "silver_flights", "route_daily"):
        assert [k for k in keys if k.startswith(f"quality/validations/{suite}/{span}")], suite
        assert [k for k in keys if k.startswith(f"quality/docs/validations/{suite}/{span}")]
    assert "quality/docs/index.html" in keys
    assert not (root / "quality").exists()  # nothing kept on the local disk
    env = dev_environment(root, minio_server.endpoint, 1, "unused")
    code, docs, _ = in_process(["quality", "--docs"], env, capsys)
    assert code == 0
    assert f"{minio_server.endpoint}/lakehouse-dev/quality/docs/index.html" in docs.splitlines()
    code, report, _ = in_process(["quality", "--date", START.isoformat()], env, capsys)
    assert code == 0
    assert f"silver_flights  ({START}..{END}, run " in report
    assert f"data docs: {minio_server.endpoint}/lakehouse-dev/quality/docs/validations/" in report


def test_spark_event_logs_go_to_the_bucket(dev_run):
    settings, _, _ = dev_run
    logs = event_logs(settings)
    assert logs and all(b"SparkListenerApplicationStart" in body for body in logs.values())


def test_the_s3_secret_and_the_warehouse_password_are_written_nowhere(dev_run, postgres_server):
    """Console, run logs, Spark event logs, Dagster's event storage (metadata), quality results."""
    settings, root, output = dev_run
    secrets = [os.environ["AWS_SECRET_ACCESS_KEY"], postgres_server[1]]
    assert secrets[0].startswith("canary-")
    assert not [s for s in secrets if s in output]
    scanned = 0
    for path in root.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            assert not [s for s in secrets if s.encode() in body], path
            scanned += 1
    logs = event_logs(settings)
    quality = bucket_objects(settings, settings.storage.quality)
    for key, body in {**logs, **quality}.items():
        assert not [s for s in secrets if s.encode() in body], key
    assert logs and len(quality) > 10 and scanned > 5
    assert list((root / "logs").glob("run-*.log")) and (root / "dagster" / "storage").is_dir()


def test_the_history_server_reads_the_event_logs_from_the_bucket(dev_run, minio_server):
    _, root, _ = dev_run
    env = {**os.environ, "LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_ENV": "dev"}
    env["LAKEHOUSE__S3__ENDPOINT"] = minio_server.endpoint
    history = [str(REPO_ROOT / "spark-submit" / "history"), "--env", "dev"]
    port = str(free_port())
    started = subprocess.run([*history, "--background", "--port", port], env=env, text=True,
                             capture_output=True, timeout=300)  # fmt: skip
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert "reading s3a://lakehouse-dev/spark-events" in started.stdout
        url = f"http://127.0.0.1:{port}/api/v1/applications"
        with urllib.request.urlopen(url, timeout=10) as response:
            names = {app["name"] for app in json.load(response)}
        assert any(name.startswith("flights-lakehouse[dev]") for name in names), names
    finally:
        subprocess.run([*history, "--stop"], env=env, timeout=60)


def test_health_probes_minio_postgres_and_mlflow(dev_run, minio_server, postgres_server, capsys):
    _, root, _ = dev_run
    server, password = postgres_server
    # No MLflow server listens there (dev's own 5000 may be the README test's, beside this).
    no_mlflow = f"http://127.0.0.1:{free_port()}"

    def health(pg_port: int) -> tuple[int, str, list[str]]:
        env = dev_environment(root, minio_server.endpoint, pg_port, password)
        env["LAKEHOUSE__ML__TRACKING_URI"] = no_mlflow
        code, out, err = in_process(["health"], env, capsys)
        failed = [line.split()[1] for line in err.splitlines() if line.startswith("FAIL")]
        return code, out, failed

    # The MLflow probe fails, naming the tracking URI.
    code, out, failed = health(server.port)
    assert (code, failed) == (1, ["mlflow"])
    assert "ok    storage tables               s3a://lakehouse-dev writable" in out
    assert "ok    warehouse                    postgres answers" in out
    assert "ok    table silver/flights         version " in out
    assert "mlflow" not in out
    code, _, failed = health(1)  # nothing listens on port 1
    assert (code, failed) == (1, ["warehouse", "mlflow"])
