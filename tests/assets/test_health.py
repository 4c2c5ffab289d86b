"""`lakehouse health` on the local profile: what it checks, and a broken part of each kind."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance
from dagster._daemon.types import DaemonHeartbeat  # written by dagster-daemon; no public API

from assets.cli import main
from assets.commands.base import ensure_dagster_home
from assets.runs import failure_messages, materialize_range
from jobs.io import landing
from jobs.tables import delta_tables

pytestmark = pytest.mark.slow

DAY = dt.date(2013, 1, 1)


@pytest.fixture(scope="module")
def bronze(settings, spark):
    landing.land(Path(settings.storage.landing), DAY, DAY)
    result = materialize_range(DAY, DAY, selection="key:bronze/flights")
    assert result.success, failure_messages(result)


@pytest.fixture
def dagster_home(settings, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home(settings)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def health(capsys) -> tuple[int, dict[str, str], list[str]]:
    """Exit code, the line of each passed probe by name, and the failed lines."""
    code = main(["health"])
    out, err = capsys.readouterr()
    passed = {line[6:34].strip(): line[35:] for line in out.splitlines() if line.startswith("ok")}
    failed = [line for line in err.splitlines() if line.startswith("FAIL")]
    return code, passed, failed


def test_a_healthy_lakehouse_passes_every_probe(bronze, dagster_home, capsys):
    code, passed, failed = health(capsys)
    assert (code, failed) == (0, [])
    assert {f"table {t.key}" for t in delta_tables()} <= set(passed)
    assert passed["table bronze/flights"] == "version 0, 24 columns"
    assert passed["table silver/flights"] == "not materialized"
    assert passed["storage tables"].endswith("writable")
    assert passed["dagster storage"].startswith("SqliteRunStorage")
    assert passed["dagster daemon"].startswith("never ran here")


def test_an_unreadable_delta_log_fails_naming_the_table(bronze, dagster_home, settings, capsys):
    commit = Path(settings.table_uri("bronze", "flights")) / "_delta_log" / f"{0:020}.json"
    good = commit.read_bytes()
    commit.write_text("{not json")
    try:
        code, _, failed = health(capsys)
    finally:
        commit.write_bytes(good)
    assert code == 1
    assert [line.split()[2] for line in failed] == ["bronze/flights"]


def test_storage_that_cannot_be_written_fails_naming_the_path(
    bronze, dagster_home, settings, monkeypatch, capsys, tmp_path
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LAKEHOUSE__STORAGE__LANDING", str(blocker / "landing"))
    code, _, failed = health(capsys)
    assert code == 1
    assert len(failed) == 1 and failed[0].split()[1:3] == ["storage", "landing"]
    assert f"{blocker / 'landing'} is not writable" in failed[0]


def test_a_daemon_that_stopped_beating_fails_where_one_is_required(
    bronze, dagster_home, monkeypatch, capsys
):
    with DagsterInstance.get() as instance:
        instance.add_daemon_heartbeat(DaemonHeartbeat(time.time() - 3600, "SENSOR", "d1", []))
    code, passed, _ = health(capsys)  # local: `lakehouse ui` runs the daemon when it is up
    assert code == 0 and passed["dagster daemon"] == "not running (last heartbeat 60 min ago)"
    monkeypatch.setenv("LAKEHOUSE__HEALTH__DAEMON_REQUIRED", "true")  # as prod.toml says
    code, _, failed = health(capsys)
    assert code == 1 and len(failed) == 1
    assert "dagster daemon" in failed[0] and "last heartbeat 60 min ago" in failed[0]
    with DagsterInstance.get() as instance:
        instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), "SENSOR", "d1", []))
    code, passed, _ = health(capsys)
    assert code == 0 and passed["dagster daemon"].startswith("heartbeat ")
