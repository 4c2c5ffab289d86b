"""spark-submit/submit runs the real jobs locally; the history server shows what they did.

The jobs run in their own lakehouse root and write the same rows as the Dagster assets do
in this process's root for the same days.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from assets.runs import failure_messages, materialize_range
from devservers import free_port
from jobs.io import landing
from jobs.settings import REPO_ROOT
from tests.reference import assert_same_rows

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

START, END = dt.date(2013, 8, 1), dt.date(2013, 8, 2)
RANGE = ["--start", START.isoformat(), "--end", END.isoformat()]
TABLES = ["bronze/flights", "silver/flights", "quarantine/flights", "silver/airlines"]
WRAPPERS = REPO_ROOT / "spark-submit"


def wrapper(command: str, args: list[str], root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LAKEHOUSE_ROOT": str(root), "LAKEHOUSE_ENV": "local"}
    return subprocess.run(
        [str(WRAPPERS / command), *args], env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    """bronze from the checkout, then silver from the packaged code zip, as EMR runs it."""
    root = tmp_path_factory.mktemp("submit-root")
    landing.land(root / "landing", START, END)
    dist = ["--dist", str(root / "dist")]
    assert wrapper("package", ["--code-only", *dist], root).returncode == 0
    runs = [wrapper("submit", ["bronze", *RANGE], root)]
    report = ["--", "--report", str(root / "silver.json")]
    runs.append(wrapper("submit", ["silver", *RANGE, "--packaged", *dist, *report], root))
    for run in runs:
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return root, runs


@pytest.fixture(scope="module")
def dagster_root(spark, settings):
    landing.land(Path(settings.storage.landing), START, END)
    result = materialize_range(
        START, END, selection="group:bronze or group:silver or group:quarantine"
    )
    assert result.success, failure_messages(result)
    return settings


@pytest.mark.parametrize("table", TABLES)
def test_submitted_jobs_write_the_same_rows_as_the_assets(submitted, dagster_root, spark, table):
    root, _ = submitted
    assert_same_rows(spark, table, root, dagster_root, START, END)


def test_the_output_names_the_event_log_and_the_app(submitted):
    root, runs = submitted
    assert f"event log: {root / 'spark-events'}" in runs[0].stdout
    assert re.search(r"Spark app local-\d+", runs[0].stdout)
    assert (
        "bronze/flights" in runs[0].stdout and "history: http://127.0.0.1:18080/" in runs[0].stdout
    )


def test_the_report_has_rows_versions_app_and_plan(submitted):
    root, _ = submitted
    report = {w["table"]: w for w in json.loads((root / "silver.json").read_text())}
    flights = report["silver/flights"]
    assert flights["rows"] > 1000 and flights["delta_version"] == 0
    assert flights["spark_app_id"].startswith("local-")
    assert "Physical Plan" in flights["plan"]


def test_a_failing_job_fails_the_wrapper_naming_the_file(submitted):
    root, _ = submitted
    run = wrapper("submit", ["bronze", "--start", "2013-08-03", "--end", "2013-08-03"], root)
    assert run.returncode == 1
    output = run.stdout + run.stderr  # spark-submit merges the driver's stderr into stdout
    assert "landing/flights/2013-08-03.csv.gz: file is missing" in output


def test_the_secret_is_not_in_the_job_output(submitted):
    _, runs = submitted
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert all(secret not in run.stdout + run.stderr for run in runs)


def test_the_history_server_lists_the_apps_just_run(submitted):
    root, runs = submitted
    app_ids = [re.search(r"Spark app (local-\d+)", run.stdout).group(1) for run in runs]
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
