"""`lakehouse wait`: done once the table has each day after its newest drop; a failed run for a
missing day ends it at once; a timeout names what is missing.

A real Dagster instance; the drops are recorded as the landing sensor records them (runless
asset events), and a tiny partitioned asset stands in for the table, so no Spark runs.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    Failure,
    asset,
    materialize,
)

from assets.cli import main
from assets.landing import landing_key
from assets.partitions import DAILY_2013
from assets.waiting import wait_for

DAY = dt.date(2013, 1, 15)
TABLE = AssetKey(["ml", "delay_predictions"])
broken: list[bool] = []


@asset(key=TABLE, partitions_def=DAILY_2013)
def stand_in() -> None:
    if broken:
        raise Failure("no champion to score with")


@pytest.fixture
def instance(tmp_path):
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        yield instance
    broken.clear()


def drop(instance: DagsterInstance, day: dt.date = DAY) -> None:
    instance.report_runless_asset_event(
        AssetMaterialization(landing_key("flights"), partition=day.isoformat())
    )


def run(instance: DagsterInstance, day: dt.date = DAY, fails: bool = False) -> None:
    broken[:] = [True] if fails else []
    result = materialize(
        [stand_in], instance=instance, partition_key=day.isoformat(), raise_on_error=False
    )
    assert result.success is not fails


def wait(instance: DagsterInstance, days=(DAY,), timeout: float = 0) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = wait_for(instance, TABLE, list(days), timeout=timeout, every=0.1, echo=lines.append)
    return code, lines


def test_a_day_is_done_once_materialized_after_its_newest_drop(instance):
    drop(instance)
    code, lines = wait(instance)
    assert code == 1 and lines[0] == f"error: ml/delay_predictions still lacks {DAY} after 0 s"
    assert "is the daemon running" in lines[-1]
    run(instance)
    code, lines = wait(instance)
    assert code == 0, lines
    assert lines[-2].startswith("run ") and lines[-2].endswith(
        f" SUCCESS {DAY}..{DAY}: ml/delay_predictions"
    )
    assert lines[-1].startswith(f"ml/delay_predictions: {DAY}..{DAY} materialized after ")
    drop(instance)  # delivered again: the table is behind until it runs again
    assert wait(instance)[0] == 1


def test_a_failed_run_for_a_missing_day_ends_the_wait_with_its_error(instance):
    drop(instance)
    run(instance, fails=True)
    code, lines = wait(instance, timeout=60)
    assert code == 1
    assert lines[1].startswith("error: run ") and f"FAILURE {DAY}..{DAY}" in lines[1]
    assert "no champion to score with" in lines[2]
    # A failure before the day's newest drop is history: the new drop is waited for.
    drop(instance)
    code, lines = wait(instance)
    assert code == 1 and "still lacks" in lines[0]


def test_every_day_of_the_range_is_waited_for(instance):
    later = DAY + dt.timedelta(days=1)
    for day in (DAY, later):
        drop(instance, day)
    run(instance, DAY)
    code, lines = wait(instance, (DAY, later))
    assert code == 1 and lines[-1] == f"error: ml/delay_predictions still lacks {later} after 0 s"


def test_in_a_range_each_days_failures_count_from_its_own_drop(instance):
    later = DAY + dt.timedelta(days=1)
    drop(instance, DAY)
    run(instance, later, fails=True)  # after the first day's drop, before the later day's
    drop(instance, later)
    code, lines = wait(instance, (DAY, later))
    assert code == 1 and lines == [
        f"error: ml/delay_predictions still lacks {DAY}, {later} after 0 s",
        "  no run for those days has started: is the daemon running (lakehouse ui)?",
    ]


def test_the_wait_ends_when_a_run_brings_the_day(instance):
    drop(instance)
    runner = threading.Timer(1.0, run, args=(instance,))
    began = time.monotonic()
    runner.start()
    code, lines = wait(instance, timeout=60)
    runner.join()
    assert code == 0 and 1.0 <= time.monotonic() - began < 30, lines
    assert sum(line.startswith("run ") for line in lines) == 1  # echoed once, when it ended


def test_only_a_daily_table_can_be_waited_for(capsys):
    assert main(["wait", "silver/planes", "--start", "2013-01-15"]) == 2
    assert "'silver/planes' is not a daily table; daily tables: " in capsys.readouterr().err
