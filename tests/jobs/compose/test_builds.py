"""Builds: how long they took without their audits; dimension builds: a snapshot already
merged is neither read, audited nor merged again; silver flights: the accounting identity
counted beside a suite that Spark validates."""

import datetime as dt
import gzip
import time
from pathlib import Path

import pytest

from expectations.audit import AccountingAudit
from jobs.compose import builds
from jobs.io import delta_io, landing, table_io
from jobs.tables import table
from tests.reference import REFERENCE_START


def write(settings, build):
    return [table_io.write_table(settings, t, data) for t, data, _ in builds.publishable(build)]


def test_a_snapshot_is_merged_once_then_skipped_until_its_content_changes(spark, settings):
    landed = landing.land_snapshot(Path(settings.storage.landing), "airlines", dt.date(2013, 1, 1))
    first = builds.dimension(spark, settings, "airlines", "run-1")
    (merged,) = write(settings, first)
    path = settings.table_uri("silver", "airlines")
    fingerprint = delta_io.commit_metadata(spark, path)
    assert merged.operation == "WRITE" and fingerprint and fingerprint.startswith("snapshot md5 ")

    again = builds.dimension(spark, settings, "airlines", "run-2")
    assert [o.passed for o in again.check_outcomes()] == [True, True]
    assert "not validated again" in (again.check_outcomes()[0].description or "")
    (skipped,) = write(settings, again)
    assert (skipped.operation, skipped.delta_version, skipped.rows) == (
        table_io.UNCHANGED_SNAPSHOT, merged.delta_version, 0
    )  # fmt: skip
    assert dict(skipped.columns) == dict(merged.columns)

    # Maintenance commits (VACUUM START and END here) change no rows: still skipped.
    delta_io.vacuum(spark, path, 168)
    assert delta_io.last_commit(spark, path).version == merged.delta_version + 2
    maintained = builds.dimension(spark, settings, "airlines", "run-2b")
    assert [type(a).__name__ for a in maintained.audits] == ["SnapshotUnchanged"]

    # A corrected snapshot (one airline renamed) is read, audited and merged.
    path_landed = Path(landed.uri)
    lines = gzip.decompress(path_landed.read_bytes()).decode().splitlines()
    lines[1] = lines[1].replace(lines[1].split(",")[-1], '"Renamed Air"')
    path_landed.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    changed = builds.dimension(spark, settings, "airlines", "run-3")
    assert [type(a).__name__ for a in changed.audits] == ["SuiteAudit"]
    (remerged,) = write(settings, changed)
    assert (remerged.operation, remerged.delta_version, remerged.rows) == (
        "MERGE", merged.delta_version + 3, 1  # after the two VACUUM commits
    )  # fmt: skip
    assert delta_io.commit_metadata(spark, path) not in (None, fingerprint)


def test_a_builds_time_leaves_out_what_its_audits_timed_themselves():
    @builds.timed
    def build() -> builds.Build:
        time.sleep(0.5)
        return builds.Build({}, audits=[AccountingAudit("silver/flights", [], seconds=0.3)])

    assert 0.2 <= build().build_seconds < 0.3  # 0.5 s in all, 0.3 s of it the audit's


@pytest.mark.parametrize(("pandas_max_rows", "engine"), [(0, "spark"), (150_000, "pandas")])
def test_silver_flights_counts_the_identity_beside_the_suite_only_when_spark_validates_it(
    spark, settings, reference_lakehouse, pandas_max_rows, engine
):
    day = REFERENCE_START

    def read(key: str):
        return table_io.read_input(spark, reference_lakehouse, table(key), day, day)

    quality = settings.quality.model_copy(update={"pandas_max_rows": pandas_max_rows})
    build = builds.silver_flights(
        settings.model_copy(update={"quality": quality}),
        *(read(key) for key in ("bronze/flights", "silver/weather", "silver/planes",
                                "silver/airports", "silver/airlines")),
        day, day, "run-beside",
    )  # fmt: skip
    build.release()
    accounting, suite = build.audits
    assert isinstance(accounting, AccountingAudit) and build.blocking_failures() == []
    assert suite.engine == engine  # type: ignore[attr-defined]
    assert (accounting.elapsed is not None) == (engine == "spark")
