"""The dev profile's MLflow: a real tracking server (devservers/mlflow.py) whose store is the
dev PostgreSQL and whose artifacts go to MinIO. Train, register, promote and score through
the CLI against it, as a user of the dev profile does. The commands run in this process, on
its warm Spark session (reading MinIO through S3A): a process of their own would cost each a
cold JVM, and the README's dev walkthrough already runs `lakehouse model` against the
server from a shell."""

import datetime as dt
import os
from pathlib import Path

import pytest

from devservers import free_port, group_members
from devservers import mlflow as mlflow_server
from jobs.io import delta_io, table_io
from jobs.io.objectstore import ensure_buckets, s3_client
from jobs.io.session import build_spark_session
from jobs.settings import load_settings
from jobs.tables import table
from tests.cli import in_process
from tests.jobs.builders import synthetic_features

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FIRST, CUTOFF = dt.date(2013, 3, 1), dt.date(2013, 3, 14)


@pytest.fixture(scope="module")
def tracking(tmp_path_factory, postgres_server, minio_server):
    server, password = postgres_server
    folder = tmp_path_factory.mktemp("mlflow")
    started = mlflow_server.start(folder, free_port(), server.port, password, minio_server.endpoint)
    yield started
    mlflow_server.stop(folder)


@pytest.fixture(scope="module")
def dev_env(tracking, minio_server, postgres_server, lakehouse_root, spark):
    server, password = postgres_server
    env = {
        **os.environ,
        "LAKEHOUSE_ENV": "dev",
        "LAKEHOUSE_ROOT": str(lakehouse_root),
        "DAGSTER_HOME": str(lakehouse_root / "dagster"),
        "LAKEHOUSE__S3__ENDPOINT": minio_server.endpoint,
        "LAKEHOUSE__WAREHOUSE__PORT": str(server.port),
        "LAKEHOUSE_WAREHOUSE_PASSWORD": password,
        "LAKEHOUSE__STORAGE__TABLES": "s3a://lakehouse-dev/mlflow-test",
        "LAKEHOUSE__ML__TRACKING_URI": tracking.uri,
        "LAKEHOUSE__ML__TRAINING_CUTOFF": CUTOFF.isoformat(),
        "LAKEHOUSE__ML__HOLDOUT_DAYS": "7",
        "LAKEHOUSE__ML__MAX_ITER": "6",
        "LAKEHOUSE__ML__MAX_DEPTH": "3",
    }
    dev = load_settings("dev", environ=env)
    ensure_buckets(dev)
    build_spark_session(dev, "pytest")  # this process writes to MinIO through S3A too
    features = synthetic_features(spark, FIRST, 21)
    end = FIRST + dt.timedelta(days=20)
    table_io.write_table(dev, table("gold/flight_features"), features, FIRST, end)
    return env, dev


def test_train_promote_and_score_against_the_tracking_server(dev_env, tracking, spark, capsys):
    env, dev = dev_env

    def lakehouse(args: list[str]) -> str:
        code, out, err = in_process(args, env, capsys)
        assert code == 0, (out + err)[-4000:]
        return out + err

    trained = lakehouse(["train", "--log-level", "WARNING"])
    assert "champion: version 1" in trained
    listed = lakehouse(["model"])
    assert f"flights_delay in {tracking.uri}" in listed
    assert "challenger,champion" in listed
    day = CUTOFF + dt.timedelta(days=1)
    scored = lakehouse(["score", "--start", day.isoformat(), "--end", day.isoformat()])
    assert "ml/delay_predictions" in scored
    predictions = delta_io.read_table(spark, dev.table_uri("ml", "delay_predictions"))
    assert predictions.count() == 120
    assert {r["model_version"] for r in predictions.select("model_version").collect()} == {1}


def test_the_runs_artifacts_are_on_minio_and_the_store_in_postgres(dev_env, postgres_server):
    _, dev = dev_env
    objects = s3_client(dev.s3).list_objects_v2(Bucket=mlflow_server.BUCKET)
    keys = [o["Key"] for o in objects.get("Contents", [])]
    assert any(k.endswith("plots/roc.png") for k in keys)
    assert any("MLmodel" in k for k in keys)
    import psycopg

    server, password = postgres_server
    info = f"host=127.0.0.1 port={server.port} dbname=mlflow user={server.user} password={password}"
    with psycopg.connect(info) as conn:
        [(versions,)] = conn.execute("SELECT count(*) FROM model_versions").fetchall()
    assert versions == 1


def test_no_mlflow_store_is_left_in_the_working_directory(dev_env):
    assert not Path("mlruns").exists() and not Path("mlflow.db").exists()


def test_no_secret_is_in_the_tracking_store_or_the_artifacts(dev_env, postgres_server):
    """Params, tags, run and model-version records, and every artifact the training run
    logged hold neither the S3 secret key nor the warehouse (and store) password. (A session
    token cannot be tried here: MinIO refuses static keys that come with one.)"""
    _, dev = dev_env
    server, password = postgres_server
    canaries = {"AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"], "password": password}
    import psycopg

    info = f"host=127.0.0.1 port={server.port} dbname=mlflow user={server.user} password={password}"
    with psycopg.connect(info) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()]  # fmt: skip
        rows = [
            text for name in tables
            for (text,) in conn.execute(f'SELECT t::text FROM "{name}" t').fetchall()
        ]  # fmt: skip
    assert any("flights_delay" in r for r in rows)  # the store holds the training run
    client = s3_client(dev.s3)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=mlflow_server.BUCKET)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    artifacts = [
        client.get_object(Bucket=mlflow_server.BUCKET, Key=k)["Body"].read().decode("latin-1")
        for k in keys
    ]
    for name, value in canaries.items():
        assert not [r for r in rows if value in r], f"{name} is in the MLflow store"
        leaked = [k for k, body in zip(keys, artifacts, strict=True) if value in body]
        assert not leaked, f"{name} is in MLflow artifacts {leaked}"


def test_the_server_runs_no_job_runner(tracking):
    """The registry needs none of MLflow 3's GenAI job runner (a huey consumer and its five
    worker processes), so the server starts without it."""
    leader = int(tracking.pid_file.read_text())
    group = [
        Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        for pid in group_members(leader)
    ]
    assert any("mlflow" in command for command in group), group
    assert not [command for command in group if "huey" in command or "_job_runner" in command]
