"""The local instance's batched event storage records what Dagster's stock SQLite storage does.

The same range runs (a good one with metadata and an asset check, then a failed one) go
through an instance with the shipped `conf/dagster/dagster.yaml` and through one with
Dagster's default storage; a fresh instance on each home (as the UI or daemon would open
it) must read back the same per-day materializations, metadata, partition statuses, check
results and run statuses. The storage overrides private Dagster methods: a dagster upgrade
that changes them fails here.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetKey,
    BackfillPolicy,
    DagsterInstance,
    DailyPartitionsDefinition,
    Definitions,
    IntMetadataValue,
    MaterializeResult,
    TextMetadataValue,
    asset,
    asset_check,
    define_asset_job,
)
from dagster._core.definitions.declarative_automation.automation_condition_evaluator import (
    get_automation_tick_settle_delay_seconds,
)
from dagster._core.storage.partition_status_cache import AssetPartitionStatus

from assets.commands.base import ensure_dagster_home
from assets.instance_storage import (
    BATCH_SIZE_VARIABLE,
    SETTLE_VARIABLE,
    BatchedSqliteEventLogStorage,
    events_dir,
    instance_file_for,
)
from jobs.settings import REPO_ROOT

pytestmark = pytest.mark.slow

DAYS = DailyPartitionsDefinition(start_date="2013-01-01", end_date="2014-01-01")
GOOD = ("2013-01-01", "2013-01-20")
BAD = ("2013-01-21", "2013-01-25")
KEYS = [AssetKey("raw"), AssetKey("clean"), AssetKey("daily_totals")]


@asset(partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run())
def raw(context) -> MaterializeResult:
    """A range asset with per-run metadata, as the lakehouse's Delta writes report it."""
    return MaterializeResult(
        metadata={"rows": 10 * len(context.partition_keys), "first": context.partition_keys[0]}
    )


@asset(partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run(), deps=[raw])
def clean(context) -> MaterializeResult:
    """Fails for the days of the bad range, like a blocked gate."""
    if BAD[0] <= context.partition_keys[0] <= BAD[1]:
        raise RuntimeError("the bad range fails")
    return MaterializeResult(metadata={"rows": len(context.partition_keys)})


@asset(partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run(), deps=[clean])
def daily_totals() -> None:
    """A downstream asset without metadata."""


@asset_check(asset=raw)
def has_rows() -> AssetCheckResult:
    """An asset check with metadata."""
    return AssetCheckResult(passed=True, metadata={"checked": 1})


DEFS = Definitions(
    assets=[raw, clean, daily_totals],
    asset_checks=[has_rows],
    jobs=[define_asset_job("all_days", selection=KEYS)],
)


@contextmanager
def opened(home: str | Path) -> Iterator[DagsterInstance]:
    """The instance at ``home``, opened as `lakehouse` and `dagster` open it (DAGSTER_HOME)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(home))
        with DagsterInstance.get() as instance:
            yield instance


def run_range(home: str, first: str, last: str) -> bool:
    """A single-run backfill of ``first..last`` on the instance at ``home``."""
    with opened(home) as instance:
        result = DEFS.resolve_job_def("all_days").execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": first,
                "dagster/asset_partition_range_end": last,
            },
            raise_on_error=False,
        )
        return result.success


def recorded(home: Path) -> dict[str, Any]:
    """What a fresh instance on ``home`` reads back, without ids and timestamps."""
    days = [f"2013-01-{day:02d}" for day in range(1, 26)]  # GOOD and BAD
    with opened(home) as instance:
        # a run by its range's first day: ids differ between the two homes
        run_range = {
            run.run_id: run.tags["dagster/asset_partition_range_start"]
            for run in instance.get_runs()
        }
        runs = sorted((run_range[run.run_id], run.status.value) for run in instance.get_runs())
        out: dict[str, Any] = {"runs": runs}
        for key in KEYS:
            records = instance.fetch_materializations(key, limit=1000).records
            (entry,) = [record.asset_entry for record in instance.get_asset_records([key])]
            latest = entry.last_materialization_record
            out[key.to_user_string()] = {
                "materialized": sorted(
                    (r.partition_key, repr(sorted(r.asset_materialization.metadata.items())))
                    for r in records
                    if r.asset_materialization
                ),
                "status": instance.get_status_by_partition(key, days, DAYS),
                # the asset's index row: its latest materialization and latest run
                "latest": latest and (latest.partition_key, run_range[latest.run_id]),
                "last run": entry.last_run_id and run_range[entry.last_run_id],
                "planned in": entry.last_planned_materialization_run_id
                and run_range[entry.last_planned_materialization_run_id],
                # indexed tags: data versions are hashes of ids, so how many days share each
                "tags": sorted(
                    Counter(
                        repr(sorted(tags.items()))
                        for tags in instance.event_log_storage.get_event_tags_for_asset(key)
                    ).values()
                ),
            }
        checks = instance.event_log_storage.get_asset_check_execution_history(
            AssetCheckKey(AssetKey("raw"), "has_rows"), limit=1000
        )
        out["checks"] = Counter(check.status.value for check in checks)
        out["events"] = sorted(
            Counter(
                record.event_log_entry.dagster_event_type.value
                for run in instance.get_runs()
                for record in instance.get_records_for_run(run.run_id, limit=100_000).records
                if record.event_log_entry.dagster_event_type
            ).items()
        )
    return out


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> dict[str, Path]:
    """The same two range runs on the shipped instance and on Dagster's stock storage."""
    homes = {}
    for name in ("shipped", "stock"):
        home = tmp_path_factory.mktemp(f"dagster-{name}")
        if name == "shipped":
            shutil.copy(REPO_ROOT / "conf" / "dagster" / "dagster.yaml", home / "dagster.yaml")
        assert run_range(str(home), *GOOD)
        assert not run_range(str(home), *BAD)
        homes[name] = home
    return homes


def test_the_shipped_instance_uses_the_batched_storage(homes):
    with opened(homes["shipped"]) as instance:
        assert isinstance(instance.event_log_storage, BatchedSqliteEventLogStorage)
    with opened(homes["stock"]) as instance:
        assert not isinstance(instance.event_log_storage, BatchedSqliteEventLogStorage)


def test_loading_it_turns_on_event_batches_and_settled_automation_ticks(homes, monkeypatch):
    monkeypatch.delenv(BATCH_SIZE_VARIABLE, raising=False)
    monkeypatch.delenv(SETTLE_VARIABLE, raising=False)
    with opened(homes["shipped"]):
        assert int(os.environ[BATCH_SIZE_VARIABLE]) > 1
        # Dagster then bounds each automation tick by the events it saw as it started.
        assert get_automation_tick_settle_delay_seconds() == 1.0


def test_it_records_what_the_stock_storage_records(homes):
    shipped, stock = recorded(homes["shipped"]), recorded(homes["stock"])
    assert shipped == stock
    # and what it records is the full story, day by day
    assert len(shipped["raw"]["materialized"]) == 25
    assert (
        "2013-01-01",
        repr([("first", TextMetadataValue("2013-01-01")), ("rows", IntMetadataValue(200))]),
    ) in (shipped["raw"]["materialized"])
    assert shipped["checks"]["SUCCEEDED"] == 2  # both runs checked raw


def test_the_days_of_a_failed_range_run_show_as_failed(homes):
    status = recorded(homes["shipped"])["clean"]["status"]
    assert status["2013-01-20"] == AssetPartitionStatus.MATERIALIZED
    assert {status[f"2013-01-{d}"] for d in range(21, 26)} == {AssetPartitionStatus.FAILED}


def test_two_processes_write_one_instance_at_once(tmp_path):
    """The CLI and the daemon's runs share the instance's files."""
    shutil.copy(REPO_ROOT / "conf" / "dagster" / "dagster.yaml", tmp_path / "dagster.yaml")
    ranges = [("2013-02-01", "2013-02-28"), ("2013-03-01", "2013-03-31")]
    with opened(tmp_path):  # the home exists before its processes start, as `lakehouse` makes it
        pass
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        assert pool.starmap(run_range, [(str(tmp_path), *r) for r in ranges]) == [True, True]
    with opened(tmp_path) as instance:
        for key in KEYS:
            records = instance.fetch_materializations(key, limit=1000).records
            assert len({r.partition_key for r in records}) == 28 + 31
        assert all(run.status.value == "SUCCESS" for run in instance.get_runs()), (
            "a run failed while another wrote the same instance"
        )


def test_the_lakehouse_home_always_gets_the_shipped_instance(settings, tmp_path, monkeypatch):
    shipped = (REPO_ROOT / "conf" / "dagster" / "dagster.yaml").read_text()
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    own = Path(settings.dagster_home)
    own.mkdir(parents=True, exist_ok=True)
    (own / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")  # an older checkout's
    assert ensure_dagster_home(settings) == own
    assert (own / "dagster.yaml").read_text() == instance_file_for(own, shipped)
    assert str(events_dir(own.resolve())) in (own / "dagster.yaml").read_text()
    # a home of the user's own keeps its file
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")
    assert ensure_dagster_home(settings) == tmp_path
    assert "enabled: true" in (tmp_path / "dagster.yaml").read_text()


def test_a_home_opened_by_its_path_reads_its_own_events(homes, tmp_path, monkeypatch):
    """As the webserver's `-h`/tests open an instance: DAGSTER_HOME may name another home."""
    shipped = (REPO_ROOT / "conf" / "dagster" / "dagster.yaml").read_text()
    home = homes["shipped"]
    (home / "dagster.yaml").write_text(instance_file_for(home, shipped))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # another, empty home
    with DagsterInstance.from_config(str(home)) as instance:
        records = instance.fetch_materializations(AssetKey("raw"), limit=1000).records
    assert len(records) == 25
