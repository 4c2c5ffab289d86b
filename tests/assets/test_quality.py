"""Quality gates end to end: injected faults, blocking gates, stored results and Data Docs."""

import datetime as dt
import gzip
from pathlib import Path
from urllib.parse import unquote

import pytest
from dagster import AssetKey

from assets.cli import main
from assets.runs import failure_messages, materialize_range
from devservers import faults
from expectations.audit import suite_check_names
from jobs.io import landing
from tests.reference import counts_by_date, delta_frame, delta_version

pytestmark = pytest.mark.slow

DAY = dt.date(2013, 5, 1)  # row faults; the next four days get one file fault each
LAST = DAY + dt.timedelta(days=len(faults.FILE_FAULTS))
SILVER = "group:bronze or group:silver or group:quarantine"


@pytest.fixture(scope="module")
def injected(spark, settings):
    landing.land(Path(settings.storage.landing), DAY, LAST)
    return faults.inject_all(Path(settings.storage.landing), DAY, LAST)


@pytest.fixture(scope="module")
def row_fault_run(injected):
    result = materialize_range(DAY, DAY, selection=SILVER)
    assert result.success, failure_messages(result)
    return result


def test_every_row_fault_is_quarantined_with_its_reason(injected, row_fault_run, settings):
    quarantined = delta_frame(settings.table_uri("quarantine", "flights"))
    quarantined = quarantined[quarantined["flight_date"] == DAY]
    reasons = {int(r["_row_number"]): list(r["reasons"]) for _, r in quarantined.iterrows()}
    for fault in injected:
        if fault.kind in faults.ROW_FAULTS:
            assert reasons.get(fault.line) == [fault.expect], fault.kind
    assert len(reasons) == len(faults.ROW_FAULTS)  # nothing else was quarantined
    assert set(quarantined["_run_id"]) == {row_fault_run.run_id}


def test_silver_plus_quarantine_equals_bronze_with_faults(row_fault_run, settings):
    bronze = counts_by_date(settings.table_uri("bronze", "flights"), "flight_date", DAY, DAY)
    silver = counts_by_date(settings.table_uri("silver", "flights"), "flight_date", DAY, DAY)
    quarantined = counts_by_date(
        settings.table_uri("quarantine", "flights"), "flight_date", DAY, DAY
    )
    assert bronze[DAY] == silver[DAY] + quarantined[DAY]
    silver_rows = delta_frame(settings.table_uri("silver", "flights"))
    assert not silver_rows.duplicated(["flight_date", "carrier", "flight", "origin"]).any()


def test_checks_report_statistics_and_a_failed_warning_does_not_block(row_fault_run):
    checks = {
        (c.asset_key.to_user_string(), c.check_name): c
        for c in row_fault_run.get_asset_check_evaluations()
    }
    accounting = checks[("silver/flights", "accounts_for_every_bronze_row")]
    assert accounting.passed and accounting.metadata["quarantined_rows"].value == len(
        faults.ROW_FAULTS
    )
    warning = checks[("bronze/flights", "passes_bronze_flights_warnings")]
    assert not warning.passed  # the non-numeric delay, flagged but not blocking
    assert "late" in warning.description
    assert checks[("bronze/flights", "passes_bronze_flights_suite")].passed
    page = warning.metadata["data_docs"].value
    assert page.startswith("file://") and Path(unquote(page.removeprefix("file://"))).is_file()


def test_the_stored_result_has_the_statistics_of_the_asset_checks(row_fault_run, settings):
    import great_expectations as gx

    # Opened as a GX user would: the file project under the profile's quality folder.
    context = gx.get_context(mode="file", project_root_dir=settings.storage.quality)
    store = context.validation_results_store
    run = row_fault_run.run_id[:8]
    checks = {c.check_name: c.metadata for c in row_fault_run.get_asset_check_evaluations()}
    for suite in ("bronze_flights", "silver_flights"):
        (key,) = [k for k in store.list_keys()
                  if k.expectation_suite_identifier.name == suite
                  and k.run_id.run_name == f"{DAY}..{DAY}_run-{run}"]  # fmt: skip
        stored = store.get(key).statistics
        blocking, warning = (checks[name] for name in suite_check_names(suite))
        assert stored["evaluated_expectations"] == (
            blocking["expectations"].value + warning["expectations"].value
        )
        assert stored["unsuccessful_expectations"] == (
            blocking["failed"].value + warning["failed"].value
        )


@pytest.mark.parametrize("kind", list(faults.FILE_FAULTS))
def test_a_broken_file_fails_its_ingestion_naming_file_and_line(injected, settings, kind):
    fault = next(f for f in injected if f.kind == kind)
    day = dt.date.fromisoformat(fault.file.name.removesuffix(".csv.gz"))
    before = delta_version(settings.table_uri("bronze", "flights"))
    result = materialize_range(day, day, selection="key:bronze/flights")
    assert not result.success
    message = "\n".join(failure_messages(result))
    assert str(fault.file) in message and fault.expect in message
    if fault.line:
        assert f"line {fault.line}" in message
    assert delta_version(settings.table_uri("bronze", "flights")) == before


def test_a_failing_blocking_gate_publishes_nothing_and_stops_downstream(row_fault_run, settings):
    # Rewrite the day's drop with 3% of lines cut short: more than the 1% the bronze suite allows.
    path = landing.daily_file(Path(settings.storage.landing), "flights", DAY)
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    cut = {n for n in range(1, len(lines)) if n % 33 == 0}
    broken = [",".join(line.split(",")[:10]) if n in cut else line for n, line in enumerate(lines)]
    path.write_bytes(gzip.compress(("\n".join(broken) + "\n").encode()))
    versions = {
        t: delta_version(settings.table_uri(*t.split("/")))
        for t in ("bronze/flights", "silver/flights")
    }

    result = materialize_range(DAY, DAY, selection=SILVER)

    assert not result.success
    message = "\n".join(failure_messages(result))
    assert "blocked before publishing" in message
    assert "expect_column_values_to_be_null(_corrupt_record): FAILED" in message
    assert f"'_row_number': {min(cut) + 1}" in message  # a sample offending row, by file line
    for table, version in versions.items():
        assert delta_version(settings.table_uri(*table.split("/"))) == version, table
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert AssetKey(["bronze", "flights"]) not in materialized
    assert AssetKey(["silver", "flights"]) not in materialized
    blocked = [
        c
        for c in result.get_asset_check_evaluations()
        if c.check_name == "passes_bronze_flights_suite"
    ]
    assert blocked and not blocked[0].passed and blocked[0].metadata["failed"].value == 1


def test_quality_prints_the_latest_results_and_quarantine_reasons(row_fault_run, capsys):
    assert main(["quality", "--date", DAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "silver_flights" in out and "[blocking] expect_compound_columns_to_be_unique" in out
    assert "quarantine/flights on 2013-05-01: " in out and "duplicate: 2" in out


def test_quality_docs_prints_the_data_docs_index(row_fault_run, settings, capsys):
    assert main(["quality", "--docs"]) == 0
    index = capsys.readouterr().out.strip()
    assert index == (Path(settings.storage.quality) / "gx/docs/index.html").as_uri()
    text = Path(unquote(index.removeprefix("file://"))).read_text()
    assert f"{DAY}..{DAY}_run-{row_fault_run.run_id[:8]}" in text
