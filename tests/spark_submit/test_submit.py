"""spark-submit/submit runs the real jobs, from the checkout on ``local[*]`` and packaged on a
real cluster; the history server shows what they did.

bronze runs from the checkout on this machine's ``local[*]``. silver then runs from the
package that ``spark-submit/package`` builds (code zip, conf, jars, packed venv shipped with
``--archives``) on a Spark standalone master and worker on 127.0.0.1 (the launchers that
ship with pyspark), in client mode, as EMR runs it: the driver here, executors in JVMs of
their own whose Python workers come from the unpacked venv (without the archive the job
fails with ``Cannot run program "./environment/bin/python"``). Both write in a root of
their own, and their tables must hold the same rows as the Dagster assets wrote for the same
days in the reference lakehouse (tests/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyspark
import pytest

from devservers import free_port
from jobs.io import landing, local_fs
from jobs.io.session import jars_dir
from jobs.settings import REPO_ROOT
from tests.reference import REFERENCE_END, REFERENCE_START, assert_same_rows

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1500)]  # set-up included

START, END = REFERENCE_START, REFERENCE_END  # the reference lakehouse's days
RANGE = ["--start", START.isoformat(), "--end", END.isoformat()]
TABLES = ["bronze/flights", "silver/flights", "quarantine/flights", "silver/airlines"]
WRAPPERS = REPO_ROOT / "spark-submit"
SPARK_CLASS = Path(sys.executable).parent / "spark-class"
JAVA_OPTIONS = "LAKEHOUSE__SPARK__DRIVER_JAVA_OPTIONS"  # set by tests/conftest.py
SPARK_HOME = Path(pyspark.__file__).parent  # the pip package is a Spark home: jars, launchers


def wrapper(
    command: str, args: list[str], root: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_ENV": "local", **env}
    return subprocess.run(
        [str(WRAPPERS / command), *args], env=environ, capture_output=True, text=True, timeout=900
    )


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
def submitted(cluster, dist, tmp_path_factory):
    """bronze from the checkout on local[*], then silver packaged on the cluster."""
    url, _, _ = cluster
    root = tmp_path_factory.mktemp("submit-root")
    landing.land(root / "landing", START, END)
    runs = [wrapper("submit", ["bronze", *RANGE], root)]
    assert runs[0].returncode == 0, runs[0].stdout[-3000:] + runs[0].stderr[-3000:]
    silver = ["silver", *RANGE, "--packaged", "--dist", str(dist)]
    report = ["--", "--report", str(root / "silver.json")]
    runs.append(wrapper("submit", [*silver, *report], root, LAKEHOUSE__SPARK__MASTER=url))
    assert runs[1].returncode == 0, runs[1].stdout[-3000:] + runs[1].stderr[-3000:]
    return root, runs


@pytest.mark.parametrize("table", TABLES)
def test_submitted_jobs_write_the_same_rows_as_the_assets(
    submitted, reference_lakehouse, spark, table
):
    root, _ = submitted
    assert_same_rows(spark, table, root, reference_lakehouse, START, END)


def test_the_output_names_the_event_log_and_the_app(submitted):
    root, runs = submitted
    assert f"event log: {root / 'spark-events'}" in runs[0].stdout
    assert re.search(r"Spark app local-\d+", runs[0].stdout)
    assert re.search(r"Spark app app-\d+-\d+", runs[1].stdout)  # the standalone master's id
    assert (
        "bronze/flights" in runs[0].stdout and "history: http://127.0.0.1:18080/" in runs[0].stdout
    )


def test_the_driver_jvms_start_with_the_configured_java_options(submitted):
    """spark-submit starts the driver JVM before the job builds its session, so the wrapper
    passes ``[spark] driver_java_options`` itself: the tests' options set the system
    property ``lakehouse.jvm``, which only a JVM started with them has, and which Spark lists
    among the application's system properties."""
    root, _ = submitted
    assert "-Dlakehouse.jvm=test" in os.environ[JAVA_OPTIONS]
    logs = sorted((root / "spark-events").iterdir())
    assert len(logs) >= 2
    for log in logs:
        with log.open() as lines:
            update = next(json.loads(x) for x in lines if "SparkListenerEnvironmentUpdate" in x)
        assert dict(update["System Properties"]).get("lakehouse.jvm") == "test"


def test_the_report_has_rows_versions_app_and_plan(submitted):
    root, _ = submitted
    report = {w["table"]: w for w in json.loads((root / "silver.json").read_text())}
    flights = report["silver/flights"]
    assert flights["rows"] > 1000 and flights["delta_version"] == 0
    assert flights["spark_app_id"].startswith("app-")
    assert "Physical Plan" in flights["plan"]
    assert "AdaptiveSparkPlan" not in flights["plan"]  # two days: a small run
    # the group's build time once, on its first output, as the assets' metadata has it
    assert flights["build_seconds"] > 0 and report["quarantine/flights"]["build_seconds"] is None


def test_silver_ran_on_the_cluster_with_the_packed_venv_on_its_executors(submitted, cluster):
    _, ui, work = cluster
    apps = master_state(ui)["completedapps"]
    assert [a["name"] for a in apps] == ["flights-lakehouse[local] silver_job"]
    pythons = sorted(work.glob("app-*/*/environment/bin/python"))
    assert {p.parts[-5] for p in pythons} == {apps[0]["id"]}
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


@pytest.mark.parametrize(("start", "end", "small"), [
    ("2013-06-15", "2013-06-15", True), ("2013-01-01", "2013-12-31", False),
])  # fmt: skip
def test_a_job_of_a_few_days_starts_its_driver_as_a_small_run(
    wrappers, capsys, monkeypatch, start, end, small
):
    monkeypatch.setenv("LAKEHOUSE__SPARK__SMALL_RUN__DRIVER_JAVA_OPTIONS", "-Dsmall.run=yes")
    argv = ["submit", "bronze", "--env", "local", "--start", start, "--end", end, "--dry-run"]
    assert wrappers.main(argv) == 0
    assert ("-Dsmall.run=yes" in capsys.readouterr().out) is small


def test_a_local_job_starts_its_driver_with_the_local_file_system(wrappers, capsys, monkeypatch):
    """spark-submit reads local files before the job's session exists, so the wrapper puts the
    compiled local file system (jobs/io/local_fs.py) on the driver's class path itself."""
    argv = ["submit", "bronze", "--env", "local", *RANGE, "--dry-run"]
    assert wrappers.main(argv) == 0
    local = capsys.readouterr().out
    assert f"--driver-class-path {local_fs.jar_path(jars_dir())}" in local
    assert f"--conf spark.hadoop.fs.file.impl={local_fs.FILE_SYSTEM}" in local
    monkeypatch.setenv("LAKEHOUSE__SPARK__MASTER", "spark://127.0.0.1:7077")
    assert wrappers.main(argv) == 0
    cluster = capsys.readouterr().out
    assert "--driver-class-path" not in cluster and "fs.file.impl" not in cluster


def test_a_date_that_is_not_one_is_refused_naming_the_option(wrappers, capsys):
    argv = ["submit", "bronze", "--start", "2013-13-01", "--end", "2013-12-31", "--dry-run"]
    with pytest.raises(SystemExit) as exited:
        wrappers.main(argv)
    assert exited.value.code == 2
    assert "argument --start: invalid fromisoformat value: '2013-13-01'" in capsys.readouterr().err


def test_a_package_without_the_venv_is_refused_for_a_cluster(
    wrappers, capsys, monkeypatch, tmp_path
):
    monkeypatch.setenv("LAKEHOUSE__SPARK__MASTER", "spark://127.0.0.1:7077")
    argv = ["submit", "bronze", "--env", "local", *RANGE, "--packaged", "--dist", str(tmp_path)]
    assert wrappers.main([*argv, "--dry-run"]) == 2
    error = capsys.readouterr().err
    assert f"{tmp_path}/pyspark_venv.tar.gz is missing" in error
    assert "without --code-only" in error


def test_a_failing_job_fails_the_wrapper_naming_the_file(submitted):
    root, _ = submitted
    missing = (END + dt.timedelta(days=1)).isoformat()  # not landed
    run = wrapper("submit", ["bronze", "--start", missing, "--end", missing], root)
    assert run.returncode == 1
    output = run.stdout + run.stderr  # spark-submit merges the driver's stderr into stdout
    assert f"landing/flights/{missing}.csv.gz: file is missing" in output


def test_the_secret_is_not_in_the_job_output(submitted):
    _, runs = submitted
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert all(secret not in run.stdout + run.stderr for run in runs)


def test_the_history_server_lists_the_apps_just_run(submitted):
    root, runs = submitted
    app_ids = [re.search(r"Spark app (local-\d+|app-\d+-\d+)", run.stdout).group(1) for run in runs]
    port = free_port()
    started = wrapper("history", ["--background", "--port", str(port)], root)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        api = f"http://127.0.0.1:{port}/api/v1/applications"
        with urllib.request.urlopen(api, timeout=10) as response:
            listed = {app["id"]: app for app in json.load(response)}
        assert set(app_ids) <= set(listed)
        assert listed[app_ids[1]]["name"] == "flights-lakehouse[local] silver_job"
        with urllib.request.urlopen(f"{api}/{app_ids[1]}/sql", timeout=10) as response:
            assert len(json.load(response)) > 0  # the SQL tab has the job's queries
    finally:
        wrapper("history", ["--stop"], root)
