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
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, RunsFilter

from devservers import free_port
from tests.cli import lakehouse

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

NEW_DAY = "2013-01-15"
WAIT_S = 600  # the run itself starts a JVM and runs bronze .. predictions for one day


@pytest.fixture(scope="module")
def environment(lakehouse_root: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "LAKEHOUSE_ROOT": str(lakehouse_root),
        "DAGSTER_HOME": str(lakehouse_root / "dagster"),
        "LAKEHOUSE__ML__TRAINING_CUTOFF": "2013-01-10",
        "LAKEHOUSE__ML__HOLDOUT_DAYS": "4",
    }
    days = ["--start", "2013-01-01", "--end", "2013-01-14"]
    lakehouse(["land", *days], env)
    lakehouse(["run", *days, "--log-level", "WARNING"], env)
    trained = lakehouse(["train", "--log-level", "WARNING"], env)
    assert "champion: version 1" in trained, trained[-3000:]
    return env


def materialized(instance: DagsterInstance, key: list[str]) -> set[str]:
    return set(instance.get_materialized_partitions(AssetKey(key)))


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
        while NEW_DAY not in materialized(instance, ["ml", "delay_predictions"]):
            assert ui.poll() is None, (lakehouse_root / "ui.log").read_text()[-4000:]
            failed = instance.get_run_records(RunsFilter(statuses=[DagsterRunStatus.FAILURE]))
            assert not failed, f"an automation run failed: {failed[0].dagster_run.run_id}"
            assert time.monotonic() < deadline, (lakehouse_root / "ui.log").read_text()[-4000:]
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
