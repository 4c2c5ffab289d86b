"""Runs of the same table at the same time, as real `lakehouse run` processes sharing one
lakehouse root and one Dagster instance (a run by hand beside the daemon's, or two people's):
disjoint ranges both land, overlapping ranges neither lose nor duplicate a row."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from jobs.io import landing
from tests.reference import delta_frame, source_counts

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

FIRST, LAST = dt.date(2013, 1, 1), dt.date(2013, 1, 6)
RANGES = [("2013-01-01", "2013-01-03"), ("2013-01-02", "2013-01-04"), ("2013-01-05", "2013-01-06")]


def start_run(first: str, last: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # the lakehouse's own
    command = ["run", "--start", first, "--end", last, "--select", "key:bronze/flights"]
    return subprocess.Popen(
        [sys.executable, "-m", "assets.cli", *command],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def test_concurrent_runs_of_disjoint_and_overlapping_ranges_lose_and_duplicate_nothing(
    settings, lakehouse_root: Path
):
    landing.land(Path(settings.storage.landing), FIRST, LAST)
    runs = [start_run(first, last) for first, last in RANGES]  # all three at once
    for run in runs:
        output, _ = run.communicate(timeout=900)
        assert run.returncode == 0, output[-3000:]

    rows = delta_frame(settings.table_uri("bronze", "flights"))
    per_day = rows["flight_date"].value_counts().to_dict()
    assert {day: int(n) for day, n in per_day.items()} == source_counts("flights", FIRST, LAST)
    assert not rows.duplicated(["_source_file", "_row_number"]).any()

    instance = DagsterInstance.from_config(str(lakehouse_root / "dagster"))
    done = instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))
    assert len(done) == len(RANGES)
