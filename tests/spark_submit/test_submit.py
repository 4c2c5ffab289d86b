"""spark-submit/submit runs the real jobs, from the checkout on ``local[*]`` and packaged on a
real cluster; the history server shows what they did.

The README's spark-submit walkthrough runs here as written (``tests/test_readme.py`` leaves
it to this module, ``test=`` in its marker), in a lakehouse root of its own: it lands two
days and runs bronze and silver flights from the checkout on this machine's ``local[*]``.
silver then runs again, from the package that ``spark-submit/package`` builds (code zip,
conf, jars, packed venv shipped with ``--archives``), on the walkthrough's bronze copied to
a second root, on a Spark standalone master and worker on 127.0.0.1 (the launchers that ship
with pyspark), in client mode, as EMR runs it: the driver here, executors in JVMs of their
own whose Python workers come from the unpacked venv (without the archive the job fails
with ``Cannot run program "./environment/bin/python"``). Their tables must hold the same rows
as the Dagster assets wrote for the same days in the reference lakehouse (tests/conftest.py).
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
from dataclasses import dataclass
from pathlib import Path

import pyspark
import pytest

from devservers import free_port
from jobs.io import local_fs
from jobs.io.session import jars_dir
from jobs.settings import REPO_ROOT
from tests.reference import REFERENCE_END, REFERENCE_START, assert_same_rows, copy_parts
from tests.test_readme import fresh_lakehouse_root, run_blocks, walkthrough_blocks

pytestmark = [
    pytest.mark.slow,
    pytest.mark.e2e,
    pytest.mark.reliability,
    pytest.mark.timeout(1500),  # set-up included
]

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


@dataclass(frozen=True)
class Submitted:
    """The walkthrough's root and output (bronze and silver on local[*]), and the second
    root with the cluster's silver job and its output."""

    local: Path
    local_output: str
    cluster: Path
    cluster_output: str

    def root_of(self, table: str) -> Path:
        return self.local if table.startswith("bronze/") else self.cluster


@pytest.fixture(scope="module")
def submitted(cluster, dist):
    """The README's walkthrough, then silver packaged on the cluster on its bronze."""
    url, _, _ = cluster
    with fresh_lakehouse_root() as local, fresh_lakehouse_root() as second:
        output = "".join(out for _, out in run_blocks(walkthrough_blocks("spark-submit"), local))
        copy_parts(local, second, ["landing", "bronze"])
        silver = ["silver", *RANGE, "--packaged", "--dist", str(dist)]
        report = ["--", "--report", str(second / "silver.json")]
        run = wrapper("submit", [*silver, *report], second, LAKEHOUSE__SPARK__MASTER=url)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        yield Submitted(local, output, second, run.stdout + run.stderr)


@pytest.mark.parametrize("table", TABLES)
def test_submitted_jobs_write_the_same_rows_as_the_assets(
    submitted, reference_lakehouse, spark, table
):
    root = submitted.root_of(table)
    # the cluster read the walkthrough's bronze, whose rows name the files it landed
    landing = submitted.local / "landing"
    assert_same_rows(spark, table, root, reference_lakehouse, START, END, landing)


def test_the_output_names_the_event_log_and_the_app(submitted):
    local = submitted.local_output
    assert f"event log: {submitted.local / 'spark-events'}" in local
    assert re.search(r"Spark app local-\d+", local)
    assert "bronze/flights" in local and "history: http://127.0.0.1:18080/" in local
    # the standalone master's id
    assert re.search(r"Spark app app-\d+-\d+", submitted.cluster_output)


def test_the_driver_jvms_start_with_the_configured_java_options(submitted):
    """spark-submit starts the driver JVM before the job builds its session, so the wrapper
    passes ``[spark] driver_java_options`` itself: the tests' options set the system
    property ``lakehouse.jvm``, which only a JVM started with them has, and which Spark lists
    among the application's system properties."""
    assert "-Dlakehouse.jvm=test" in os.environ[JAVA_OPTIONS]
    roots = (submitted.local, submitted.cluster)
    logs = sorted(log for root in roots for log in (root / "spark-events").iterdir())
    assert len(logs) >= 3  # bronze and silver on local[*], silver on the cluster
    for log in logs:
        with log.open() as lines:
            update = next(json.loads(x) for x in lines if "SparkListenerEnvironmentUpdate" in x)
        assert dict(update["System Properties"]).get("lakehouse.jvm") == "test"


def test_the_report_has_rows_versions_app_and_plan(submitted):
    report = {w["table"]: w for w in json.loads((submitted.cluster / "silver.json").read_text())}
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


PROBE = """
import sys
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
tasks = spark.sparkContext.parallelize(range(4), 2)
import_from = lambda _: (sys.prefix, __import__("great_expectations").__file__)
for prefix, module in sorted(set(tasks.map(import_from).collect())):
    print("executor python", prefix, module)
"""


def test_the_clusters_executors_run_python_from_the_packed_venv(cluster, dist, tmp_path):
    """The packaged silver job's own submission (command and environment), with a probe in
    place of its entry point: Python tasks on the executors run the interpreter and the
    packages of the venv unpacked into the executor's folder, not this machine's."""
    from jobs.entrypoints.submission import local_command, local_environment, packaged_name
    from jobs.settings import load_settings

    url, _, work = cluster
    settings = load_settings("local", {**os.environ, "LAKEHOUSE__SPARK__MASTER": url})
    command = local_command(settings, "silver", [], packaged=True, dist=dist)
    entry = command.index(str(dist / packaged_name("jobs/entrypoints/silver_job.py")))
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = local_environment(packaged=True, dist=dist, standalone=True)
    done = subprocess.run([*command[:entry], str(probe)], env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    seen = [line.split()[2:] for line in done.stdout.splitlines() if line.startswith("executor")]
    assert seen, done.stdout
    for prefix, module in seen:
        assert Path(prefix).is_relative_to(work) and Path(prefix).name == "environment", prefix
        assert Path(module).is_relative_to(prefix), module


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
    root = submitted.cluster
    missing = (END + dt.timedelta(days=1)).isoformat()  # not landed
    run = wrapper("submit", ["bronze", "--start", missing, "--end", missing], root)
    assert run.returncode == 1
    output = run.stdout + run.stderr  # spark-submit merges the driver's stderr into stdout
    assert f"landing/flights/{missing}.csv.gz: file is missing" in output


def test_the_secret_is_not_in_the_job_output(submitted):
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]  # the cluster's job had it in its environment
    assert secret not in submitted.cluster_output and secret not in submitted.local_output


def test_the_history_server_lists_the_apps_just_run(submitted):
    root = submitted.local  # the walkthrough's bronze and silver jobs
    app_ids = re.findall(r"Spark app (local-\d+)", submitted.local_output)
    assert len(app_ids) == 2
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
