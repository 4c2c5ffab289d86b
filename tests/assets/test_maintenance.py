"""The table_maintenance job, its weekly schedule and `lakehouse maintain`."""

import datetime as dt

import pytest
from dagster import build_schedule_context

from assets.cli import main
from assets.definitions import defs
from assets.maintenance import maintenance_schedule, recent_days, table_maintenance
from assets.resources import build_resources
from jobs.io import delta_io, maintenance

DAY = dt.date(2013, 2, 1)


@pytest.fixture
def reruns(spark, settings):
    """carrier_daily with one day written three times: two replaced files on storage."""
    path = settings.table_uri("gold", "carrier_daily")
    frame = spark.createDataFrame([(DAY, "AA")], "flight_date DATE, carrier STRING")
    for _ in range(3):
        delta_io.write_range(frame, path, "flight_date", DAY, DAY)
    return path


def test_the_schedule_optimizes_the_last_days_of_the_data(settings):
    assert recent_days(settings, dt.date(2013, 3, 10)) == (
        dt.date(2013, 3, 4),
        dt.date(2013, 3, 10),
    )
    assert recent_days(settings, dt.date(2026, 11, 29)) == (
        dt.date(2013, 12, 25),
        dt.date(2013, 12, 31),
    )
    tick = dt.datetime(2013, 6, 2, 4, tzinfo=dt.UTC)
    request = maintenance_schedule("local")(build_schedule_context(scheduled_execution_time=tick))
    config = request.run_config["ops"]["maintain_tables"]["config"]
    assert config == {"start": "2013-05-27", "end": "2013-06-02"}


def test_the_job_and_its_schedule_are_in_the_definitions():
    assert defs.get_job_def("table_maintenance").name == "table_maintenance"
    assert defs.get_schedule_def("weekly_table_maintenance").cron_schedule == "0 4 * * 0"


def test_the_job_vacuums_with_the_configured_retention(reruns, spark, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE__MAINTENANCE__VACUUM_RETENTION_HOURS", "0")
    assert maintenance.stored_files(spark, reruns) == 3
    result = table_maintenance.execute_in_process(
        resources=build_resources("local"),
        run_config={"ops": {"maintain_tables": {"config": {"start": str(DAY), "end": str(DAY)}}}},
    )
    assert result.success
    assert maintenance.stored_files(spark, reruns) == 1
    assert delta_io.read_table(spark, reruns).count() == 1


def test_maintain_prints_one_line_per_table(reruns, capsys):
    assert main(["maintain", "--start", str(DAY), "--end", str(DAY)]) == 0
    out = capsys.readouterr().out
    assert "maintaining 2013-02-01..2013-02-01 on local (VACUUM retention 168 h)" in out
    assert "gold/carrier_daily" in out
    assert main(["maintain", "--start", str(DAY)]) == 2
