"""The Spark assets through Dagster Pipes: same keys and checks, computed by spark-submit.

The upstream tables and landed files are copied from the reference lakehouse (the same
days, written in process); then silver flights (two outputs, accounting and suite checks)
and gold route_daily run through Pipes, one spark-submit each.
"""

from pathlib import Path

import pytest
from dagster import AssetKey

from assets.runs import failure_messages, materialize_range
from jobs.settings import load_settings
from jobs.tables import delta_tables
from tests.reference import (
    REFERENCE_END,
    REFERENCE_START,
    copy_parts,
    counts_by_date,
    source_counts,
)

pytestmark = pytest.mark.slow

START, END = REFERENCE_START, REFERENCE_END
UPSTREAM = [t.key for t in delta_tables() if t.layer == "bronze"] + [
    "silver/weather", "quarantine/weather", "silver/planes", "silver/airports", "silver/airlines"
]  # fmt: skip
OUT_OF_PROCESS = ("silver/flights", "quarantine/flights", "gold/route_daily")


@pytest.fixture(scope="module")
def pipes_run(tmp_path_factory, reference_lakehouse, spark):
    root = tmp_path_factory.mktemp("pipes-root")
    copy_parts(Path(reference_lakehouse.root), root, ["landing", *UPSTREAM])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAKEHOUSE_ROOT", str(root))
        patch.setenv("LAKEHOUSE__SPARK__RUNNER", "pipes_subprocess")
        settings = load_settings()
        selection = " or ".join(f"key:{table}" for table in OUT_OF_PROCESS)
        result = materialize_range(START, END, selection=selection)
    assert result.success, failure_messages(result)
    return result, settings


def materializations(result, table: str):
    key = AssetKey(table.split("/"))
    return [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == key
    ]


def test_every_spark_asset_is_materialized_out_of_process(pipes_run, spark):
    result, settings = pipes_run
    assert settings.spark.runner == "pipes_subprocess"
    for table in OUT_OF_PROCESS:
        events = materializations(result, table)
        assert events, table
        app_id = events[-1].metadata["spark_app_id"].value
        assert app_id.startswith("local-") and app_id != spark.sparkContext.applicationId


def test_reported_metadata_has_rows_version_history_and_plan(pipes_run):
    result, settings = pipes_run
    meta = materializations(result, "silver/flights")[-1].metadata
    expected = sum(source_counts("flights", START, END).values())
    assert meta["dagster/row_count"].value == expected
    assert meta["delta_version"].value == 0
    assert meta["spark_history"].value.endswith(f"/history/{meta['spark_app_id'].value}/SQL/")
    assert "Physical Plan" in meta["spark_plan"].value
    assert meta["build_seconds"].value > 0  # as the in-process asset reports it
    assert counts_by_date(settings.table_uri("silver", "flights"), "flight_date") == source_counts(
        "flights", START, END
    )


def test_the_jobs_checks_are_reported_as_asset_checks(pipes_run):
    result, _ = pipes_run
    checks = {
        (c.asset_key.to_user_string(), c.check_name): c.passed
        for c in result.get_asset_check_evaluations()
    }
    assert checks[("silver/flights", "accounts_for_every_bronze_row")]
    assert checks[("silver/flights", "passes_silver_flights_suite")]
    assert checks[("gold/route_daily", "passes_route_daily_suite")]
