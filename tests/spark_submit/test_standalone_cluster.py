"""A real cluster, not only ``local[2]``: a Spark standalone master and worker on 127.0.0.1
(the launchers that ship with pyspark) run the packaged jobs in client mode, as EMR runs
them: code from the zip, settings from the shipped conf, executors in their own JVMs with
the packed venv that ``--archives`` unpacked beside them.

Executors start Python workers for the jobs (without the archive the jobs fail with
``Cannot run program "./environment/bin/python"``); the test also checks the archive is
unpacked in each executor's folder and imports the job packages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyspark
import pytest

from assets.runs import failure_messages, materialize_range
from devservers import free_port
from jobs.io import landing
from jobs.settings import REPO_ROOT
from tests.reference import assert_same_rows

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1500)]  # set-up included

DAY = dt.date(2013, 9, 2)
RANGE = ["--start", DAY.isoformat(), "--end", DAY.isoformat()]
TABLES = ["bronze/flights", "silver/flights", "quarantine/flights"]
SPARK_CLASS = Path(sys.executable).parent / "spark-class"
SPARK_HOME = Path(pyspark.__file__).parent  # the pip package is a Spark home: jars, launchers


def master_state(ui_port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as reply:
        return json.load(reply)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[tuple[str, int, Path]]:
    """A standalone master and one worker (2 cores, 3 GiB) on 127.0.0.1: (master URL,
    master UI port, worker folder)."""
    folder = tmp_path_factory.mktemp("standalone")
    port, ui, worker_ui = free_port(), free_port(), free_port()
    env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1"}
    url = f"spark://127.0.0.1:{port}"
    work = folder / "work"
    commands = [
        ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
         "--webui-port", str(ui)],
        ["org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2",
         "--memory", "3g", "--webui-port", str(worker_ui), "--work-dir", str(work), url],
    ]  # fmt: skip
    processes = []
    for name, command in zip(("master", "worker"), commands, strict=True):
        log = open(folder / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        processes.append(
            subprocess.Popen([str(SPARK_CLASS), *command], env=env, stdout=log, stderr=log)
        )
        if name == "master":
            time.sleep(2)  # the worker registers with a master that listens
    deadline = time.monotonic() + 120
    while True:
        try:
            if master_state(ui).get("aliveworkers") == 1:
                break
        except OSError:
            pass
        logs = "\n".join((folder / f"{n}.log").read_text()[-2000:] for n in ("master", "worker"))
        assert all(p.poll() is None for p in processes), logs
        assert time.monotonic() < deadline, logs
        time.sleep(1)
    yield url, ui, work
    for process in processes:
        process.terminate()
        process.wait(timeout=60)


@pytest.fixture(scope="module")
def submitted(cluster, dist, tmp_path_factory) -> Path:
    """bronze then silver for one day, packaged, on the cluster, in a root of their own."""
    url, _, _ = cluster
    root = tmp_path_factory.mktemp("cluster-root")
    landing.land(root / "landing", DAY, DAY)
    env = {**os.environ, "LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_ENV": "local",
           "LAKEHOUSE__SPARK__MASTER": url}  # fmt: skip
    for job in ("bronze", "silver"):
        done = subprocess.run(
            [str(REPO_ROOT / "spark-submit" / "submit"), job, *RANGE, "--packaged",
             "--dist", str(dist)],
            env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root


@pytest.fixture(scope="module")
def in_process(settings, spark):
    landing.land(Path(settings.storage.landing), DAY, DAY)
    selection = "group:bronze or group:silver or group:quarantine"
    result = materialize_range(DAY, DAY, selection=selection)
    assert result.success, failure_messages(result)
    return settings


@pytest.mark.parametrize("table", TABLES)
def test_cluster_jobs_write_the_same_rows_as_the_in_process_run(
    submitted, in_process, spark, table
):
    assert_same_rows(spark, table, submitted, in_process, DAY, DAY)


def test_the_jobs_ran_on_the_cluster_with_the_packed_venv_on_each_executor(submitted, cluster):
    _, ui, work = cluster
    apps = master_state(ui)["completedapps"]
    names = sorted(a["name"] for a in apps)
    assert names == ["flights-lakehouse[local] bronze_job", "flights-lakehouse[local] silver_job"]
    pythons = sorted(work.glob("app-*/*/environment/bin/python"))
    assert {p.parts[-5] for p in pythons} == {a["id"] for a in apps}  # every app's executors
    probe = "import delta, great_expectations, jobs.transforms; print('ok')"
    # As an executor's Python worker starts: the shipped code zip from the executor's folder,
    # and PySpark from the cluster's Spark (the venv leaves it out, as EMR provides it).
    code = next(pythons[0].parents[2].glob("code.zip"))
    path = [str(code), *map(str, sorted((SPARK_HOME / "python" / "lib").glob("*.zip")))]
    done = subprocess.run(
        [str(pythons[0]), "-c", probe],
        env={"PYTHONPATH": os.pathsep.join(path)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_package_without_the_venv_is_refused_for_a_cluster(
    wrappers, capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("LAKEHOUSE__SPARK__MASTER", "spark://127.0.0.1:7077")
    argv = ["submit", "bronze", "--env", "local", *RANGE, "--packaged", "--dist", str(tmp_path)]
    assert wrappers.main([*argv, "--dry-run"]) == 2
    error = capsys.readouterr().err
    assert f"{tmp_path}/pyspark_venv.tar.gz is missing" in error
    assert "without --code-only" in error
