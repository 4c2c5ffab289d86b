"""The gate runs each suite's checkpoint on a small frame, stores the result and its Data
Docs page in the profile's GX project, and reads it back; Spark and pandas frames (a gate's
copy of a small range) are judged alike."""

import datetime as dt
import json
import logging
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import functions as F

from expectations import context as quality
from expectations import gate, suites
from expectations.audit import audit_suite
from expectations.context import pages_built, project_config, quality_context
from expectations.suites import SUITES
from jobs.io import delta_io, export
from jobs.tables import table

D = dt.date(2013, 1, 1)
# The table each suite gates (the builds in jobs/compose/builds.py pair them).
SUITE_TABLES = {
    "bronze_flights": "bronze/flights",
    "silver_flights": "silver/flights",
    "route_daily": "gold/route_daily",
    "carrier_daily": "gold/carrier_daily",
    "planes": "silver/planes",
    "airports": "silver/airports",
    "airlines": "silver/airlines",
}


def carrier_days(spark, rows):
    return spark.createDataFrame(
        rows,
        "flight_date DATE, carrier STRING, flights INT, cancelled INT, "
        "mean_dep_delay_min DOUBLE, on_time_share DOUBLE",
    )


@pytest.fixture(scope="module")
def context(settings):
    return quality_context(settings)


@pytest.fixture(params=["spark", "pandas"])
def engine(request):
    """How a gate gets the frame: as Spark's, or as the pandas copy of a small range."""
    return (lambda df: df) if request.param == "spark" else export.to_pandas


def test_every_suite_names_the_columns_that_identify_an_offending_row():
    assert set(SUITES) == set(suites.ROW_IDENTITY)


def test_a_failing_expectation_names_the_offending_rows(spark, context, engine):
    frame = carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5), (D, "AA", 1, 2, 1.0, 1.0)])
    report = gate.validate(context, engine(frame), "carrier_daily", "run-1", D, D)
    failed = report.failed(blocking=True)
    assert [o.expectation for o in failed] == ["expect_column_pair_values_a_to_be_greater_than_b"]
    assert failed[0].sample_rows == [
        {"flight_date": "2013-01-01", "carrier": "AA", "flights": 1, "cancelled": 2}
    ]


def test_a_suite_without_row_identity_still_validates(spark, settings, monkeypatch):
    monkeypatch.setitem(suites.ROW_IDENTITY, "carrier_daily", ())
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(settings.root / "no-identity"))
    from jobs.settings import load_settings

    context = quality_context(load_settings())
    report = gate.validate(context, carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5)]),
                           "carrier_daily", "r")  # fmt: skip
    assert report.passed(blocking=True)
    assert [o.error for o in report.outcomes] == [None] * len(report.outcomes)


def test_the_stored_result_reads_back_through_gx_with_the_same_statistics(
    spark, context, engine, request
):
    frame = carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5), (D, "AA", 1, 2, 1.0, 1.0)])
    run = f"{request.node.callspec.id:<8}"[:8] + "01"  # a run name of this engine's own
    report = gate.validate(context, engine(frame), "carrier_daily", run, D, D)

    # Through GX's own API: the results store of a context opened from the project folder.
    import great_expectations as gx

    reopened = gx.get_context(mode="file", project_root_dir=context.location)
    keys = [k for k in reopened.validation_results_store.list_keys()
            if k.run_id.run_name == f"2013-01-01..2013-01-01_run-{run[:8]}"]  # fmt: skip
    assert len(keys) == 1
    stored = reopened.validation_results_store.get(keys[0])
    assert stored.statistics["evaluated_expectations"] == len(report.outcomes)
    assert stored.statistics["unsuccessful_expectations"] == len(
        report.failed(True) + report.failed(False)
    )
    assert report.page and report.page.startswith("file://")
    pages_built()  # rendered on the page thread
    page = Path(report.page.removeprefix("file://").replace("%20", " "))
    assert page.is_file() and "carrier_daily" in page.read_text()

    # Counts for every expectation; the failed one's offending row was added by the second
    # pass and stored, so its page and `lakehouse quality` (stored results) show it too.
    by_type = {r.expectation_config.type: r.result for r in stored.results}
    failed = by_type["expect_column_pair_values_a_to_be_greater_than_b"]
    assert failed["unexpected_count"] == 1
    assert failed["partial_unexpected_index_list"] == [
        {"flight_date": "2013-01-01", "carrier": "AA", "flights": 1, "cancelled": 2}
    ]
    assert by_type["expect_column_values_to_be_between"]["unexpected_count"] == 0
    assert "Unexpected Value" in page.read_text()  # the sample's table, from the second pass
    (read_back,) = gate.latest_reports(context, D)["carrier_daily"].failed(blocking=True)
    assert read_back.sample_rows == failed["partial_unexpected_index_list"]


def test_the_gate_returns_before_its_page_is_rendered_and_pages_built_waits_for_it(spark, context):
    frame = carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5)])
    busy = threading.Event()
    quality._PAGES.submit(busy.wait, 60)  # the page thread is busy with something else
    try:
        report = gate.validate(context, frame, "carrier_daily", "5a5a5a5a01", D, D)
        page = Path(str(report.page).removeprefix("file://"))
        assert not page.exists()  # queued behind the busy thread, not rendered by the gate
    finally:
        busy.set()
    pages_built()
    assert page.is_file() and "carrier_daily" in page.read_text()


def test_a_page_that_cannot_be_built_is_logged_not_raised(caplog):
    def fail() -> None:
        raise OSError("disk full")

    quality._QUEUED.append(("the key", quality._PAGES.submit(fail)))
    with caplog.at_level(logging.WARNING, logger="expectations.context"):
        pages_built()
    assert "the Data Docs page of the key was not built: disk full" in caplog.text


def test_a_context_opened_meanwhile_is_the_one_the_caller_gets_once_it_is_open(
    settings, monkeypatch
):
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(settings.root / "opened-meanwhile"))
    from jobs.settings import load_settings

    fresh = load_settings()
    project = Path(fresh.storage.quality, "gx")
    busy = threading.Event()
    quality._OPENER.submit(busy.wait, 60)  # the opener's thread is busy with something else
    try:
        quality.open_meanwhile(fresh)
        assert not project.exists()  # queued, not opened by the caller
        opened = quality._OPENING[quality._open_arguments(fresh)]
        quality.open_meanwhile(fresh)  # asked again: still the one opening
        assert quality._OPENING[quality._open_arguments(fresh)] is opened
    finally:
        busy.set()
    assert quality_context(fresh).gx is opened.result()  # waited for, not opened again
    assert len(list((project / "checkpoints").glob("*.json"))) == 2 * len(SUITES)


def test_a_context_that_failed_to_open_meanwhile_fails_where_it_is_used(settings, monkeypatch):
    blocked = settings.root / "quality-is-a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(settings.root / "failing"))
    from jobs.settings import load_settings

    fresh = load_settings()
    fresh = fresh.model_copy(
        update={"storage": fresh.storage.model_copy(update={"quality": str(blocked)})}
    )
    quality.open_meanwhile(fresh)
    with pytest.raises(OSError, match="quality-is-a-file"):
        quality_context(fresh)


def test_an_object_storage_project_gets_one_local_folder_however_often_it_is_asked(settings):
    remote = settings.model_copy(update={"storage": settings.storage.model_copy(
        update={"quality": f"s3a://bucket/{settings.root.name}-one-folder"}
    )})  # fmt: skip
    folders = lambda: set(Path(tempfile.gettempdir()).glob("lakehouse-gx-*"))  # noqa: E731
    before = folders()
    asked = {quality._open_arguments(remote)[2] for _ in range(3)}
    assert len(asked) == 1 and folders() - before == {Path(*asked)}


def test_the_docs_index_lists_every_suite_and_the_validations(spark, context):
    gate.validate(context, carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5)]), "carrier_daily",
                  "fedcba9876", D, D)  # fmt: skip
    index = Path(context.docs_index().removeprefix("file://"))
    text = index.read_text()
    for suite in SUITES:
        assert f"expectations/{suite}.html" in text
    assert "2013-01-01..2013-01-01_run-fedcba98" in text


def test_the_docs_index_lists_only_the_newest_results_and_every_result_keeps_its_page(
    spark, settings, tmp_path
):
    storage = settings.storage.model_copy(update={"quality": str(tmp_path / "quality")})
    quality = settings.quality.model_copy(update={"docs_index_results": 2})
    bounded = quality_context(settings.model_copy(update={"storage": storage, "quality": quality}))
    df = carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5)])
    pages = [gate.validate(bounded, df, "carrier_daily", run * 10, D, D).page
             for run in ("aaaaaaaa", "bbbbbbbb", "cccccccc")]  # fmt: skip
    index = Path(bounded.docs_index().removeprefix("file://")).read_text()
    assert [run in index for run in ("_run-aaaaaaaa", "_run-bbbbbbbb", "_run-cccccccc")] == [
        False,
        True,
        True,
    ]
    assert all(Path(str(page).removeprefix("file://")).is_file() for page in pages), pages


def test_latest_reports_pick_the_newest_result_covering_the_day(spark, context):
    gate.validate(context, carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5)]), "carrier_daily",
                  "11111111aa", D, D + dt.timedelta(days=2))  # fmt: skip
    latest = gate.latest_reports(context, D + dt.timedelta(days=1))
    assert latest["carrier_daily"].run_id == "11111111"
    assert (latest["carrier_daily"].start, latest["carrier_daily"].end) == (
        "2013-01-01",
        "2013-01-03",
    )
    assert gate.latest_reports(context, D + dt.timedelta(days=5)) == {}


def test_suites_are_written_from_code_and_not_rewritten_when_unchanged(settings, context):
    project = Path(context.location, "gx")
    written = sorted(
        p for folder in ("expectations", "validation_definitions", "checkpoints")
        for p in (project / folder).glob("*.json")
    )  # fmt: skip
    assert len(written) == 5 * len(SUITES)  # a definition and a checkpoint per engine
    before = {p: p.stat().st_mtime_ns for p in [*written, project / "great_expectations.yml"]}
    from expectations import context as module

    module._open.cache_clear()  # as a new process would open it
    quality_context(settings)
    assert {p: p.stat().st_mtime_ns for p in before} == before
    stored = json.loads((project / "expectations" / "carrier_daily.json").read_text())
    assert [e["type"] for e in stored["expectations"]] == [
        e.build().expectation_type for e in SUITES["carrier_daily"]()
    ]


def test_object_storage_profiles_keep_every_store_and_the_docs_in_the_bucket(settings):
    config = project_config(settings.model_copy(
        update={"storage": settings.storage.model_copy(update={"quality": "s3a://b/q"})}
    ))  # fmt: skip
    backends = [s["store_backend"] for s in config["stores"].values()]
    backends.append(config["data_docs_sites"]["lakehouse"]["store_backend"])
    assert {b["class_name"] for b in backends} == {"TupleS3StoreBackend"}
    assert sorted(b["prefix"] for b in backends) == [
        "q/checkpoints", "q/docs", "q/expectations", "q/validation_definitions", "q/validations"
    ]  # fmt: skip


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_suite_builds_its_expectations(suite):
    assert [entry.build() for entry in SUITES[suite]()]


def _comparable(report: gate.GateReport) -> list[tuple[Any, ...]]:
    """A report's outcomes, samples as multisets (engines list them in their own order)."""

    def rows(values: list[Any]) -> Counter[str]:
        return Counter(repr(sorted(v.items()) if isinstance(v, dict) else v) for v in values)

    return [
        (o.expectation, o.column, o.blocking, o.success, o.observed, o.unexpected_count,
         round(o.unexpected_percent or 0.0, 9), rows(o.sample), rows(o.sample_rows), o.error)
        for o in report.outcomes
    ]  # fmt: skip


@pytest.mark.filterwarnings("error::UserWarning")  # e.g. pandas on a regex's capturing group
@pytest.mark.parametrize("suite", sorted(SUITES))
def test_spark_and_pandas_judge_every_suite_alike(spark, context, reference_lakehouse, suite):
    """The rows of real days with the first row twice, then also a row of nulls: both
    engines find the same failures, counts and offending rows."""
    assert set(SUITE_TABLES) == set(SUITES), "pair the new suite with its table above"
    entry = table(SUITE_TABLES[suite])
    rows = delta_io.read_table(spark, reference_lakehouse.table_uri(*entry.path))
    empty = rows.limit(1).select(*[F.lit(None).cast(f.dataType).alias(f.name) for f in rows.schema])
    copied = rows.unionByName(rows.limit(1))
    for broken in (copied.persist(), copied.unionByName(empty).persist()):
        on_spark = gate.validate(context, broken, suite, "sparkrun")
        on_pandas = gate.validate(context, export.to_pandas(broken), suite, "pandarun")
        assert _comparable(on_pandas) == _comparable(on_spark)
    assert not on_spark.passed(blocking=True)  # the nulls are seen (and the copy, with a key)


def test_a_gate_validates_a_pandas_copy_of_at_most_the_configured_rows(spark, settings):
    frame = carrier_days(spark, [(D, "UA", 3, 1, 5.0, 0.5), (D, "AA", 4, 2, 1.0, 1.0)])
    engines = {}
    for limit in (1, 2):
        quality = settings.quality.model_copy(update={"pandas_max_rows": limit})
        limited = settings.model_copy(update={"quality": quality})
        audit = audit_suite("gold/carrier_daily", "carrier_daily", frame.persist(), limited, "r")
        (blocking, _) = audit.outcomes()
        assert blocking.passed and blocking.metadata["rows_validated"] == 2
        engines[limit] = blocking.metadata["validated_with"]
    assert engines == {1: "spark", 2: "pandas"}
