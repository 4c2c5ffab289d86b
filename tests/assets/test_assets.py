"""Assets through Dagster on a few real days: tables, counts, metadata, failures."""

import datetime as dt
import gzip

import pytest
from dagster import AssetKey

from assets.runs import failure_messages, materialize_range
from jobs.io import delta_io, landing
from jobs.tables import delta_tables
from tests.reference import counts_by_date, delta_version, source_counts
from warehouse.tables import WAREHOUSE_TABLES

pytestmark = pytest.mark.slow

START, END = dt.date(2013, 1, 1), dt.date(2013, 1, 3)


@pytest.fixture(scope="module")
def run(spark, settings):
    landing.land(landing_root(settings), START, END)
    result = materialize_range(START, END)
    assert result.success, failure_messages(result)
    return result


def landing_root(settings):
    from pathlib import Path

    return Path(settings.storage.landing)


def metadata(result, key: str):
    events = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.materialization.asset_key == AssetKey(key.split("/"))
    ]
    assert events, f"{key} was not materialized"
    return {k: getattr(v, "value", v) for k, v in events[-1].metadata.items()}


def test_every_asset_is_materialized_for_every_day_of_the_range(run):
    keys = {
        e.materialization.asset_key.to_user_string() for e in run.get_asset_materialization_events()
    }
    assert keys == {t.key for t in delta_tables() if t.layer != "ml"} | {
        f"warehouse/{name}" for name in WAREHOUSE_TABLES
    }
    partitions = {
        e.partition for e in run.get_asset_materialization_events()
        if e.materialization.asset_key == AssetKey(["silver", "flights"])
    }  # fmt: skip
    assert partitions == {"2013-01-01", "2013-01-02", "2013-01-03"}


def test_bronze_holds_every_source_row_per_day(run, settings):
    expected = source_counts("flights", START, END)
    assert counts_by_date(settings.table_uri("bronze", "flights"), "flight_date") == expected
    weather = source_counts("weather", START, END)
    assert counts_by_date(settings.table_uri("bronze", "weather"), "weather_date") == weather


def test_silver_plus_quarantine_equals_bronze_per_day(run, settings):
    bronze = counts_by_date(settings.table_uri("bronze", "flights"), "flight_date")
    silver = counts_by_date(settings.table_uri("silver", "flights"), "flight_date")
    quarantined = counts_by_date(settings.table_uri("quarantine", "flights"), "flight_date")
    for day, rows in bronze.items():
        assert silver.get(day, 0) + quarantined.get(day, 0) == rows


def test_a_range_write_is_one_commit_with_its_metadata(run, settings):
    meta = metadata(run, "silver/flights")
    assert meta["dagster/row_count"] == sum(source_counts("flights", START, END).values())
    assert meta["delta_version"] == delta_version(settings.table_uri("silver", "flights"))
    assert meta["partition_range"] == "2013-01-01..2013-01-03"
    assert meta["dagster/uri"] == settings.table_uri("silver", "flights")
    assert meta["spark_app_id"].startswith("local-")
    assert meta["spark_history"] == f"http://127.0.0.1:18080/history/{meta['spark_app_id']}/SQL/"
    assert "== Physical Plan ==" in meta["spark_plan"]
    columns = {c.name: c.type for c in meta["dagster/column_schema"].columns}
    assert columns["sched_dep_utc"] == "timestamp" and columns["flight_date"] == "date"
    assert meta["write_seconds"] > 0
    assert meta["build_seconds"] > 0  # parsing, joins, the cache fill before the audits
    assert "build_seconds" not in metadata(run, "quarantine/flights")  # one build: once


def test_dimensions_are_merged_and_counted(run):
    meta = metadata(run, "silver/planes")  # the first write of this module's fresh root
    assert (meta["delta_operation"], meta["delta_version"]) == ("WRITE", 0)
    assert meta["dagster/row_count"] == meta["rows_total"] == 3322


def test_a_corrupt_landing_file_fails_the_run_naming_it_and_writes_nothing(run, settings):
    day = dt.date(2013, 1, 5)
    landing.land(landing_root(settings), dt.date(2013, 1, 4), day)
    bad = landing.daily_file(landing_root(settings), "flights", day)
    bad.write_bytes(gzip.compress(b"year,month\n2013,1\n")[:-12])  # truncated
    version = delta_version(settings.table_uri("bronze", "flights"))
    result = materialize_range(dt.date(2013, 1, 4), day, selection="key:bronze/flights")
    assert not result.success
    assert any(str(bad) in m and "truncated" in m for m in failure_messages(result))
    assert delta_version(settings.table_uri("bronze", "flights")) == version
    assert max(counts_by_date(settings.table_uri("bronze", "flights"), "flight_date")) == END


def test_the_warehouse_holds_the_gold_rows_of_the_range(run, settings):
    import duckdb

    gold = counts_by_date(settings.table_uri("gold", "route_daily"), "flight_date", START, END)
    with duckdb.connect(settings.warehouse.path, read_only=True) as db:
        rows = db.execute(
            "SELECT flight_date, count(*) FROM gold.route_daily GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert dict(rows) == gold
    meta = metadata(run, "warehouse/route_daily")
    assert meta["rows_inserted"] == sum(gold.values())
    assert meta["target_table"] == "gold.route_daily" and meta["backend"] == "duckdb"
    checks = {c.asset_key.to_user_string(): c for c in run.get_asset_check_evaluations()}
    assert checks["warehouse/route_daily"].passed
    assert checks["warehouse/route_daily"].metadata["warehouse_rows"].value == sum(gold.values())
    assert all(check.passed for check in checks.values())


def test_an_unchanged_dimension_is_not_reloaded_until_its_table_has_a_new_version(
    run, settings, spark, monkeypatch
):
    from delta.tables import DeltaTable

    def load_airlines() -> tuple[dict, object]:
        result = materialize_range(START, END, selection="key:warehouse/airlines")
        assert result.success, failure_messages(result)
        (check,) = result.get_asset_check_evaluations()
        return metadata(result, "warehouse/airlines"), check

    first = metadata(run, "warehouse/airlines")
    assert "skipped" not in first and first["rows_inserted"] == 16
    again, check = load_airlines()
    assert again["skipped"] and again["source"] == first["source"]
    assert (again["rows_deleted"], again["rows_inserted"], again["dagster/row_count"]) == (0, 0, 16)
    assert check.passed and check.metadata["lakehouse_rows"].value == 16
    # Maintenance commits (here VACUUM START and END) write no rows: still not reloaded.
    path = settings.table_uri("silver", "airlines")
    delta_io.vacuum(spark, path, 168)
    maintained, _ = load_airlines()
    assert maintained["skipped"] and maintained["source"] == first["source"]
    # A new commit of the lakehouse table (here one that rewrites the same values) is loaded.
    DeltaTable.forPath(spark, path).update(set={"name": "name"})
    reloaded, _ = load_airlines()
    assert "skipped" not in reloaded and reloaded["source"] != first["source"]
    assert reloaded["rows_inserted"] == 16
    monkeypatch.setenv("LAKEHOUSE__WAREHOUSE__SKIP_UNCHANGED_DIMENSIONS", "false")
    forced, _ = load_airlines()
    assert "skipped" not in forced and forced["source"] == reloaded["source"]


def test_the_redshift_dry_run_plans_from_the_real_gold_schema(run, settings, spark):
    from jobs.settings import load_settings
    from warehouse.load import plan_table
    from warehouse.tables import WAREHOUSE_TABLES

    prod = settings.model_copy(update={"warehouse": load_settings("prod", environ={}).warehouse})
    text = plan_table(spark, prod, WAREHOUSE_TABLES["flight_features"], START, END)
    assert '"sched_dep_utc" TIMESTAMP' in text and '"cancelled" BOOLEAN' in text
    assert (
        'COPY "stage_flight_features_<load id>" FROM \'s3://flights-lakehouse-prod/staging/' in text
    )
    assert "BETWEEN DATE '2013-01-01' AND DATE '2013-01-03'" in text


@pytest.mark.postgres
def test_gold_loads_into_a_real_postgres_with_equal_counts(
    run, settings, spark, postgres_server, monkeypatch
):
    from jobs.settings import PostgresWarehouse
    from warehouse.connect import open_warehouse
    from warehouse.load import load_table
    from warehouse.tables import WAREHOUSE_TABLES

    server, password = postgres_server
    monkeypatch.setenv("GOLD_TEST_PG_PASSWORD", password)
    target = PostgresWarehouse(
        backend="postgres", host="127.0.0.1", port=server.port, database=server.database,
        user=server.user, password_env="GOLD_TEST_PG_PASSWORD", schema="gold_it",
    )  # fmt: skip
    dev = settings.model_copy(update={"warehouse": target})
    for name in ("route_daily", "flight_features"):
        spec = WAREHOUSE_TABLES[name]
        with open_warehouse(dev) as warehouse:
            first = load_table(spark, dev, warehouse, spec, START, END)
        with open_warehouse(dev) as warehouse:  # a new connection, as another run would
            again = load_table(spark, dev, warehouse, spec, START, END)
        gold = counts_by_date(settings.table_uri(*spec.source), "flight_date", START, END)
        assert first.warehouse_rows == first.lakehouse_rows == sum(gold.values()), name
        assert (again.result.rows_deleted, again.result.rows_inserted) == (sum(gold.values()),) * 2
        assert again.warehouse_rows == sum(gold.values())


def test_a_run_of_a_few_days_is_planned_as_a_small_run(run):
    plan = metadata(run, "silver/flights")["spark_plan"]
    assert "== Physical Plan ==" in plan
    assert "AdaptiveSparkPlan" not in plan and "[codegen id" not in plan


def test_a_longer_run_is_planned_as_configured(run, monkeypatch, spark):
    monkeypatch.setenv("LAKEHOUSE__SPARK__SMALL_RUN__DAYS", "2")  # the module's 3 days are more
    result = materialize_range(START, END, selection="key:gold/carrier_daily")
    assert result.success, failure_messages(result)
    assert "AdaptiveSparkPlan" in metadata(result, "gold/carrier_daily")["spark_plan"]
    # Adaptive execution shows the plan before its stages are compiled; the run's session:
    assert spark.conf.get("spark.sql.codegen.wholeStage") == "true"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"  # the tests' setting
