"""The automation end to end with a real Dagster daemon: a new day dropped into landing
reaches ml/delay_predictions with no other command.

The lakehouse holds 2013-01-01..14 and a champion trained on the days up to 01-10; then
`lakehouse ui` (dagster dev: webserver and daemon) runs on it, 2013-01-15 is landed, and the
test waits for the landing sensor, the automation sensor and the one run they launch.
"""

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

from assets.cli import main
from devservers import free_port
from jobs.io import model_registry
from jobs.settings import load_settings
from tests.cli import lakehouse, patched_environment

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1500)]  # set-up included

NEW_DAY = "2013-01-15"
WAIT_S = 600  # the run itself starts a JVM and runs bronze .. predictions for one day


@pytest.fixture(scope="module")
def environment(lakehouse_root: Path, spark) -> dict[str, str]:
    env = {
        **os.environ,
        "LAKEHOUSE_ROOT": str(lakehouse_root),
        "DAGSTER_HOME": str(lakehouse_root / "dagster"),
        "LAKEHOUSE__ML__TRAINING_CUTOFF": "2013-01-10",
        "LAKEHOUSE__ML__HOLDOUT_DAYS": "4",
        "LAKEHOUSE__ML__MAX_ITER": "10",  # as the README's demo: the champion is not the point
    }
    days = ["--start", "2013-01-01", "--end", "2013-01-14"]
    # The set-up runs in this process, on its warm Spark session; the daemon's run is the
    # process under test.
    with patched_environment(env):
        assert main(["land", *days]) == 0
        assert main(["run", *days, "--log-level", "WARNING"]) == 0
        assert main(["train", "--log-level", "WARNING"]) == 0
    champion = model_registry.champion(load_settings(environ=env).ml)
    assert champion is not None and champion.version == 1, champion
    return env


def materialized(instance: DagsterInstance, key: list[str]) -> set[str]:
    return set(instance.get_materialized_partitions(AssetKey(key)))


def diagnosis(instance: DagsterInstance, log: Path, runs_before: int) -> str:
    """What the daemon did, for a failure message: the new runs and backfills with their
    statuses, each unfinished run's last events, and the log lines that are not routine."""
    lines = []
    records = instance.get_run_records()
    for record in records[: len(records) - runs_before]:
        run = record.dagster_run
        lines.append(f"run {run.run_id[:8]} {run.status.value} {sorted(run.asset_selection or [])}")
        if not run.is_finished:
            for entry in instance.all_logs(run.run_id)[-8:]:
                lines.append(f"    {entry.dagster_event_type} {entry.message[:200]}")
    for backfill in instance.get_backfills():
        lines.append(f"backfill {backfill.backfill_id} {backfill.status.value}")
    routine = ("Checking for new runs", "skipped", "Prefetching", "Done prefetching",
               "Checking 20 assets", "Finished auto-materialization", "Submitting 0 runs",
               "Tick produced 0 runs")  # fmt: skip
    logged = [line for line in log.read_text().splitlines() if not any(r in line for r in routine)]
    return "\n".join([*lines, "-- ui.log, routine lines left out:", *logged[-60:]])


def test_a_new_day_reaches_the_predictions_through_the_daemon(environment, lakehouse_root):
    instance = DagsterInstance.from_config(str(lakehouse_root / "dagster"))
    runs_before = len(instance.get_run_records())
    log = open(lakehouse_root / "ui.log", "w")  # noqa: SIM115 (closed below)
    ui = subprocess.Popen(
        [sys.executable, "-m", "assets.cli", "ui", "--port", str(free_port())],
        env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        lakehouse(["land", "--start", NEW_DAY, "--end", NEW_DAY], environment)
        deadline = time.monotonic() + WAIT_S
        why = partial(diagnosis, instance, lakehouse_root / "ui.log", runs_before)
        while NEW_DAY not in materialized(instance, ["ml", "delay_predictions"]):
            assert ui.poll() is None, why()
            failed = instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
            assert not failed, f"an automation run failed: {why()}"
            assert time.monotonic() < deadline, f"no predictions for {NEW_DAY}: {why()}"
            time.sleep(5)
    finally:
        os.killpg(ui.pid, signal.SIGINT)  # Ctrl-C, as a user stops it
        try:
            ui.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()
        log.close()
    assert ui.returncode is not None
    for key in (["bronze", "flights"], ["silver", "flights"], ["gold", "flight_features"]):
        assert NEW_DAY in materialized(instance, key)
    # Only the new day ran: the days `lakehouse run` ingested were not reported again.
    new_runs = instance.get_run_records()[: len(instance.get_run_records()) - runs_before]
    ranges = {
        (r.dagster_run.tags.get("dagster/asset_partition_range_start"),
         r.dagster_run.tags.get("dagster/asset_partition_range_end"),
         r.dagster_run.tags.get("dagster/partition"))
        for r in new_runs
    }  # fmt: skip
    assert all(NEW_DAY in (start, end, single) for start, end, single in ranges), ranges
    events = instance.fetch_materializations(AssetKey(["bronze", "flights"]), limit=100).records
    assert sorted(e.partition_key for e in events).count("2013-01-01") == 1
