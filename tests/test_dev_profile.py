"""The dev profile: the same pipeline on MinIO (through S3A) and PostgreSQL, configuration only.

The README's dev walkthrough runs here as written (``tests/test_readme.py`` leaves it to this
module, ``test=`` in its marker), in a lakehouse root of its own, with its servers on free
ports (the dev settings' overrides move servers and clients together). While they still
run, its tables are read back with this process's Spark (through S3A, with the
walkthrough's credentials for its bucket) and compared row for row with a local run of the
same days (the reference lakehouse, tests/conftest.py); at the end the walkthrough's last
block stops the servers.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from devservers import free_port
from jobs.io import delta_io
from jobs.io.objectstore import s3_client, split_uri
from jobs.io.session import build_spark_session
from jobs.settings import REPO_ROOT, Settings, load_settings
from jobs.tables import delta_tables
from tests.cli import in_process, patched_environment
from tests.reference import REFERENCE_END, REFERENCE_START, comparable
from tests.test_readme import fresh_lakehouse_root, run_blocks, shell_exports, walkthrough_blocks

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.postgres, pytest.mark.reliability]

START, END = REFERENCE_START, REFERENCE_END  # the days the walkthrough runs
TABLES = [t.key for t in delta_tables() if t.layer != "ml"]  # ML: tests/assets/test_ml.py
BUCKET = "lakehouse-dev"


@dataclass(frozen=True)
class DevRun:
    """The walkthrough's lakehouse while its servers run."""

    settings: Settings  # the dev settings with the walkthrough's ports
    root: Path
    output: str  # what its blocks printed
    env: dict[str, str]  # its shell's environment: profile, ports, credentials

    @property
    def secrets(self) -> list[str]:
        return [self.env["AWS_SECRET_ACCESS_KEY"], self.env["LAKEHOUSE_WAREHOUSE_PASSWORD"]]


@contextmanager
def reading_bucket_with(
    spark: SparkSession, settings: Settings, env: dict[str, str]
) -> Iterator[None]:
    """While it lasts, this process's Spark reads the walkthrough's bucket on its MinIO with
    its credentials: S3A's per-bucket settings (this JVM's environment holds the suite's
    own), no cached file system or Delta log from an earlier module (another MinIO)."""
    build_spark_session(settings, "pytest")  # endpoint and path style
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    per_bucket = {
        f"fs.s3a.bucket.{BUCKET}.aws.credentials.provider":
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        f"fs.s3a.bucket.{BUCKET}.access.key": env["AWS_ACCESS_KEY_ID"],
        f"fs.s3a.bucket.{BUCKET}.secret.key": env["AWS_SECRET_ACCESS_KEY"],
        f"fs.s3a.bucket.{BUCKET}.endpoint": settings.s3.endpoint or "",
        "fs.s3a.impl.disable.cache": "true",
    }  # fmt: skip
    delta_log = spark._jvm.org.apache.spark.sql.delta.DeltaLog
    for key, value in per_bucket.items():
        hadoop.set(key, value)
    delta_log.clearCache()
    try:
        yield
    finally:
        for key in per_bucket:
            hadoop.unset(key)
        delta_log.clearCache()


@pytest.fixture(scope="module")
def dev_run(spark) -> Iterator[DevRun]:
    *walk, stop = walkthrough_blocks("dev")
    ports = {
        "LAKEHOUSE__S3__ENDPOINT": f"http://127.0.0.1:{free_port()}",
        "LAKEHOUSE__WAREHOUSE__PORT": str(free_port()),
        "LAKEHOUSE__ML__TRACKING_URI": f"http://127.0.0.1:{free_port()}",
    }
    with fresh_lakehouse_root() as root, tempfile.TemporaryDirectory() as shells:
        steps = run_blocks([*walk, stop], root, ports, Path(shells))
        output = "".join(next(steps)[1] for _ in walk)
        # what a command in its shell sees (Dagster's home set, so that in-process commands
        # leave this process's as it was)
        env = {**shell_exports(Path(shells), "dev"), "DAGSTER_HOME": str(root / "dagster")}
        settings = load_settings("dev", environ=env)
        try:
            with reading_bucket_with(spark, settings, env):
                yield DevRun(settings, root, output, env)
        finally:
            next(steps)  # the walkthrough's last block stops the servers
            steps.close()


def table_rows(spark: SparkSession, settings: Settings, table: str) -> DataFrame:
    df = delta_io.read_table(spark, settings.table_uri(*table.split("/")))
    return comparable(df, settings.storage.landing, table, START, END)


def test_the_servers_listen_where_the_settings_say(dev_run):
    ports = {k: v for k, v in dev_run.env.items() if k.startswith("LAKEHOUSE__")}
    assert dev_run.settings.s3.endpoint == ports["LAKEHOUSE__S3__ENDPOINT"]
    assert f"MinIO on {ports['LAKEHOUSE__S3__ENDPOINT']}" in dev_run.output
    assert f"MLflow on {ports['LAKEHOUSE__ML__TRACKING_URI']}" in dev_run.output
    assert f"127.0.0.1:{ports['LAKEHOUSE__WAREHOUSE__PORT']}" in dev_run.output


def test_landing_and_tables_live_in_the_bucket(dev_run):
    assert dev_run.settings.storage.tables == f"s3a://{BUCKET}"
    assert f"into s3a://{BUCKET}/landing" in dev_run.output


@pytest.mark.parametrize("table", TABLES)
def test_dev_tables_hold_the_same_rows_as_local(dev_run, reference_lakehouse, spark, table):
    dev = table_rows(spark, dev_run.settings, table)
    local = table_rows(spark, reference_lakehouse, table)
    assert dev.count() > 0 or table.startswith("quarantine")
    assert_df_equality(dev, local, ignore_row_order=True, ignore_nullable=True)


def test_the_dev_warehouse_is_postgres_with_the_gold_rows(dev_run, spark):
    env, warehouse = dev_run.env, dev_run.settings.warehouse
    conninfo = (
        f"host=127.0.0.1 port={env['LAKEHOUSE__WAREHOUSE__PORT']} dbname=lakehouse "
        f"user=lakehouse password={env['LAKEHOUSE_WAREHOUSE_PASSWORD']}"
    )
    assert warehouse.backend == "postgres"
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT count(*) FROM gold.flight_features WHERE flight_date BETWEEN %s AND %s",
            (START, END),
        ).fetchone()
    silver = delta_io.read_table(spark, dev_run.settings.table_uri("silver", "flights"))
    assert row is not None
    assert row[0] == silver.where(F.col("flight_date").between(START, END)).count()


def bucket_objects(dev_run: DevRun, uri: str) -> dict[str, bytes]:
    """The objects under ``uri`` in the walkthrough's bucket, by key."""
    with patched_environment(dev_run.env):  # its credentials
        client = s3_client(dev_run.settings.s3)
    bucket, prefix = split_uri(uri)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", []) if o["Size"]]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_gate_results_and_data_docs_live_in_the_bucket(dev_run, capsys):
    settings, endpoint = dev_run.settings, dev_run.env["LAKEHOUSE__S3__ENDPOINT"]
    assert settings.storage.quality == f"s3a://{BUCKET}/quality"
    keys = set(bucket_objects(dev_run, settings.storage.quality))
    span = f"{START}..{END}_run-"
    for suite in ("bronze_flights", "silver_flights", "route_daily"):
        assert [k for k in keys if k.startswith(f"quality/validations/{suite}/{span}")], suite
        assert [k for k in keys if k.startswith(f"quality/docs/validations/{suite}/{span}")]
    assert "quality/docs/index.html" in keys
    assert not (dev_run.root / "quality").exists()  # nothing kept on the local disk
    code, docs, _ = in_process(["quality", "--docs"], dev_run.env, capsys)
    assert code == 0
    assert f"{endpoint}/{BUCKET}/quality/docs/index.html" in docs.splitlines()
    code, report, _ = in_process(["quality", "--date", START.isoformat()], dev_run.env, capsys)
    assert code == 0
    assert f"silver_flights  ({START}..{END}, run " in report
    assert f"data docs: {endpoint}/{BUCKET}/quality/docs/validations/" in report
    assert f"quarantine/flights on {START}: " in report  # its day read from the bucket


def test_spark_event_logs_go_to_the_bucket(dev_run):
    logs = bucket_objects(dev_run, dev_run.settings.storage.event_log)
    assert logs and all(b"SparkListenerApplicationStart" in body for body in logs.values())


def files_under(root: Path) -> Iterator[Path]:
    """Every file under ``root``; folders that vanish during the walk (MinIO's
    ``.minio.sys/tmp/.trash`` while the server runs) are skipped, not an error."""
    for folder, _, names in os.walk(root):  # os.walk ignores folders it cannot list
        yield from (Path(folder) / name for name in names)


def test_the_s3_secret_and_the_warehouse_password_are_written_nowhere(dev_run):
    """Console, run logs, Spark event logs, Dagster's event storage (metadata), quality
    results, and the servers' own folders."""
    assert not [s for s in dev_run.secrets if s in dev_run.output]
    scanned = 0
    for path in files_under(dev_run.root):
        if not path.is_file():  # a socket, or gone
            continue
        try:
            body = path.read_bytes()
        except FileNotFoundError:  # MinIO empties its trash while the scan runs
            continue
        assert not [s for s in dev_run.secrets if s.encode() in body], path
        scanned += 1
    logs = bucket_objects(dev_run, dev_run.settings.storage.event_log)
    quality = bucket_objects(dev_run, dev_run.settings.storage.quality)
    for key, body in {**logs, **quality}.items():
        assert not [s for s in dev_run.secrets if s.encode() in body], key
    assert logs and len(quality) > 10 and scanned > 5
    assert list((dev_run.root / "logs").glob("run-*.log"))
    assert (dev_run.root / "dagster" / "storage").is_dir()


def test_the_history_server_reads_the_event_logs_from_the_bucket(dev_run):
    history = [str(REPO_ROOT / "spark-submit" / "history"), "--env", "dev"]
    port = str(free_port())
    started = subprocess.run([*history, "--background", "--port", port], env=dev_run.env,
                             text=True, capture_output=True, timeout=300)  # fmt: skip
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"reading s3a://{BUCKET}/spark-events" in started.stdout
        url = f"http://127.0.0.1:{port}/api/v1/applications"
        with urllib.request.urlopen(url, timeout=10) as response:
            names = {app["name"] for app in json.load(response)}
        assert any(name.startswith("flights-lakehouse[dev]") for name in names), names
    finally:
        subprocess.run([*history, "--stop"], env=dev_run.env, timeout=60)


def test_health_probes_minio_postgres_and_mlflow(dev_run, capsys):
    # The walkthrough's MLflow still runs: point the probe at a port where none listens.
    no_mlflow = f"http://127.0.0.1:{free_port()}"

    def health(pg_port: str) -> tuple[int, str, list[str]]:
        env = {**dev_run.env, "LAKEHOUSE__WAREHOUSE__PORT": pg_port}
        env["LAKEHOUSE__ML__TRACKING_URI"] = no_mlflow
        code, out, err = in_process(["health"], env, capsys)
        failed = [line.split()[1] for line in err.splitlines() if line.startswith("FAIL")]
        return code, out, failed

    code, out, failed = health(dev_run.env["LAKEHOUSE__WAREHOUSE__PORT"])
    assert (code, failed) == (1, ["mlflow"])  # the MLflow probe fails, naming the URI
    assert f"ok    storage tables               s3a://{BUCKET} writable" in out
    assert "ok    warehouse                    postgres answers" in out
    assert "ok    table silver/flights         version " in out
    assert "mlflow" not in out
    code, _, failed = health("1")  # nothing listens on port 1
    assert (code, failed) == (1, ["warehouse", "mlflow"])
    assert os.environ.get("LAKEHOUSE_ENV") == "local"  # the module's own profile is back
