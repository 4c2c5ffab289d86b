"""The landing sensor on real landing zones (a local folder, a MinIO bucket) and the
run-failure alert."""

import datetime as dt
import gzip
import json
import os

import pytest
from dagster import AssetKey, AssetMaterialization, DagsterInstance, build_sensor_context

from assets.resources import LakehouseConfig
from assets.sensors import landing_sensor
from jobs.io import landing
from jobs.settings import load_settings

D1, D2 = dt.date(2013, 5, 1), dt.date(2013, 5, 2)


def tick(instance, cursor=None, env="local"):
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"lakehouse": LakehouseConfig(env=env)}
    )
    result = landing_sensor(context)
    events = [
        (e.asset_key.to_user_string(), e.partition, e.metadata["redelivered"].value)
        for e in (result.asset_events or [])
    ]
    return events, result.cursor


@pytest.fixture
def zone(settings, tmp_path, monkeypatch):
    """A fresh landing folder holding 2013-05-01..02 and the snapshots."""
    monkeypatch.setenv("LAKEHOUSE__STORAGE__LANDING", str(tmp_path / "landing"))
    landed = load_settings()
    landing.land(landing.landing_target(landed), D1, D2)
    return tmp_path / "landing"


def test_the_first_tick_reports_every_day_and_snapshot_then_nothing_until_a_change(zone):
    instance = DagsterInstance.ephemeral()
    events, cursor = tick(instance)
    assert sorted(events) == sorted(
        [(f"landing/{d}", day, False) for d in ("flights", "weather")
         for day in ("2013-05-01", "2013-05-02")]
        + [(f"landing/{d}", None, False) for d in ("airlines", "airports", "planes")]
    )  # fmt: skip
    assert tick(instance, cursor)[0] == []


def test_a_new_day_and_a_redelivered_day_are_reported_by_content(zone):
    instance = DagsterInstance.ephemeral()
    _, cursor = tick(instance)
    landing.land_daily(zone, "flights", dt.date(2013, 5, 3), dt.date(2013, 5, 3))
    landing.land_daily(zone, "flights", D1, D1)  # the same bytes again: not new
    changed = landing.daily_file(zone, "flights", D2)
    lines = gzip.decompress(changed.read_bytes()).decode().splitlines(keepends=True)
    changed.write_bytes(gzip.compress("".join(lines[:-1]).encode()))  # one flight fewer
    events, cursor = tick(instance, cursor)
    assert sorted(events) == [
        ("landing/flights", "2013-05-02", True),
        ("landing/flights", "2013-05-03", False),
    ]
    assert tick(instance, cursor)[0] == []


def test_a_new_snapshot_is_reported_only_when_its_content_changes(zone):
    instance = DagsterInstance.ephemeral()
    _, cursor = tick(instance)
    landing.land_snapshot(zone, "planes", dt.date(2013, 5, 9))  # newer name, same content
    events, cursor = tick(instance, cursor)
    assert events == []
    newer = zone / "planes" / "2013-05-10.csv.gz"
    content = gzip.decompress((zone / "planes" / "2013-05-09.csv.gz").read_bytes())
    newer.write_bytes(gzip.compress(content + b'"N999ZZ",2013,,,,,,,\n'))
    events, _ = tick(instance, cursor)
    assert events == [("landing/planes", None, False)]


def test_files_that_are_not_a_dated_drop_or_outside_2013_are_not_reported(zone):
    instance = DagsterInstance.ephemeral()
    _, cursor = tick(instance)
    (zone / "flights" / "notes.txt").write_text("hello")
    (zone / "flights" / "2013-13-45.csv.gz").write_bytes(b"")
    (zone / "flights" / "2013-05-04.csv.tmp").write_bytes(b"")  # a drop being written
    landing.land_daily(zone, "flights", dt.date(2014, 1, 1), dt.date(2014, 1, 1))
    events, _ = tick(instance, cursor)
    assert events == []
    _, strays = landing.list_drops(load_settings())
    assert sorted(strays) == [
        "flights/2013-13-45.csv.gz", "flights/2014-01-01.csv.gz", "flights/notes.txt"
    ]  # fmt: skip


def test_the_first_tick_skips_what_the_lakehouse_already_ingested(zone):
    instance = DagsterInstance.ephemeral()
    for key in (["bronze", "flights"], ["bronze", "weather"]):
        instance.report_runless_asset_event(
            AssetMaterialization(AssetKey(key), partition="2013-05-01")
        )
    for name in ("planes", "airports", "airlines"):
        instance.report_runless_asset_event(AssetMaterialization(AssetKey(["silver", name])))
    events, cursor = tick(instance)
    assert sorted(events) == [
        ("landing/flights", "2013-05-02", False),
        ("landing/weather", "2013-05-02", False),
    ]
    assert "flights/2013-05-01.csv.gz" in json.loads(cursor)  # remembered all the same


@pytest.mark.slow
def test_on_dev_the_sensor_lists_the_minio_prefix(minio_server, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE__S3__ENDPOINT", minio_server.endpoint)
    monkeypatch.setenv("LAKEHOUSE__STORAGE__LANDING", "s3a://lakehouse-dev/sensor-test/landing")
    dev = load_settings("dev")
    landing.land(landing.landing_target(dev), D1, D1)
    instance = DagsterInstance.ephemeral()
    events, cursor = tick(instance, env="dev")
    assert ("landing/flights", "2013-05-01", False) in events
    assert len(events) == 2 + 3
    assert tick(instance, cursor, env="dev")[0] == []
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in cursor  # the canary stays out
