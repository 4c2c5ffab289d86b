"""Processes killed with SIGKILL mid-way: nothing half-written is ever read, the next run repairs.

Each crash is a real `lakehouse` process: a Delta write is killed (Python and its Spark JVM,
one process group) as soon as its first data file appears; a PostgreSQL warehouse load is
killed between its INSERT and its commit; a landing is cut off in the middle of
a file by the kernel's file-size limit.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from deltalake import DeltaTable

from assets.runs import failure_messages, materialize_range
from jobs.io import landing
from jobs.settings import REPO_ROOT
from tests.reference import delta_frame, source_counts

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

START, END = dt.date(2013, 1, 1), dt.date(2013, 1, 3)
RANGE = ["--start", START.isoformat(), "--end", END.isoformat()]
BRONZE = ["--select", "key:bronze/flights"]


def lakehouse(*args: str, limit_bytes: int | None = None) -> subprocess.Popen[str]:
    """`lakehouse ARGS` in a process group of its own (its JVM included); ``limit_bytes``
    caps the size of any file it writes (RLIMIT_FSIZE)."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}

    def limit() -> None:
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.Popen(
        [sys.executable, "-m", "assets.cli", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True, preexec_fn=limit,
    )  # fmt: skip


def finished(process: subprocess.Popen[str]) -> str:
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-3000:]
    return output


def kill_when(process: subprocess.Popen[str], seen: Callable[[], bool], limit: float = 300) -> None:
    """SIGKILL the process group as soon as ``seen()``; fails if the process ends first."""
    deadline = time.monotonic() + limit
    while not seen():
        assert process.poll() is None, "finished before the crash point:\n" + process.stdout.read()  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "never reached the crash point"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def data_files(table: Path) -> set[Path]:
    return {p for p in table.rglob("*.parquet") if "_delta_log" not in p.parts}


def rows(path: str) -> pd.DataFrame:
    """The table's rows in a stable order, without the ingestion time a rerun renews."""
    df = delta_frame(path).drop(columns=["_ingested_at"])
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def in_process_run() -> None:
    """The clean runs before and after the crash, in the test's own process (faster)."""
    result = materialize_range(START, END, selection="key:bronze/flights")
    assert result.success, failure_messages(result)


def test_a_kill_during_a_delta_write_keeps_the_previous_version_and_a_rerun_repairs(
    settings, spark
):
    landing.land(Path(settings.storage.landing), START, END)
    in_process_run()
    path = settings.table_uri("bronze", "flights")
    version, before, files = DeltaTable(path).version(), rows(path), data_files(Path(path))

    rerun = lakehouse("run", *RANGE, *BRONZE)
    kill_when(rerun, lambda: bool(data_files(Path(path)) - files))

    assert data_files(Path(path)) - files, "the killed write had started writing data files"
    assert DeltaTable(path).version() == version  # nothing committed
    pd.testing.assert_frame_equal(rows(path), before)  # the previous rows, readable
    in_process_run()
    assert DeltaTable(path).version() == version + 1
    pd.testing.assert_frame_equal(rows(path), before)  # as a clean rerun leaves it
    assert len(DeltaTable(path).file_uris()) == (END - START).days + 1  # no orphan is active


def test_landing_cut_off_mid_file_leaves_only_whole_files_and_landing_again_completes(settings):
    flights = Path(settings.storage.landing) / "flights"
    year = ["land", "--start", "2013-01-01", "--end", "2013-12-31"]
    # The kernel refuses to grow any file past 16 KB for this process (EFBIG), cutting the
    # first larger daily file mid-write, as a crash or a full disk would.
    cut = lakehouse(*year, limit_bytes=16 * 1024)
    output, _ = cut.communicate(timeout=300)
    assert cut.returncode != 0 and "File too large" in output, output[-2000:]
    partial = [p for p in flights.iterdir() if not p.name.endswith(".csv.gz")]
    assert [p.stat().st_size for p in partial] == [16 * 1024]  # the cut file, under its temp name

    def whole_days() -> dict[dt.date, int]:
        days = {}
        for file in sorted(flights.glob("*.csv.gz")):
            with gzip.open(file, "rt") as lines:  # a truncated file raises here
                days[dt.date.fromisoformat(file.name[:10])] = sum(1 for _ in lines) - 1
        return days

    expected = source_counts("flights", dt.date(2013, 1, 1), dt.date(2013, 12, 31))
    assert all(n == expected[day] for day, n in whole_days().items())
    finished(lakehouse(*year))
    assert whole_days() == expected
    assert not [p for p in flights.iterdir() if not p.name.endswith(".csv.gz")]


def postgres_conf(folder: Path, port: int, schema: str) -> Path:
    """The checkout's conf/ with the local profile's warehouse on the test's PostgreSQL."""
    shutil.copytree(REPO_ROOT / "conf", folder)
    local = folder / "local.toml"
    warehouse = (
        f'[warehouse]\nbackend = "postgres"\nhost = "127.0.0.1"\nport = {port}\n'
        f'database = "lakehouse"\nuser = "lakehouse"\n'
        f'password_env = "LAKEHOUSE_WAREHOUSE_PASSWORD"\nschema = "{schema}"\n'
        # The test reloads an unchanged dimension on purpose (to kill that load).
        "skip_unchanged_dimensions = false\n\n"
    )
    text = re.sub(r"\[warehouse\]\n.*?\n\n", warehouse, local.read_text(), flags=re.S)
    local.write_text(text)
    return folder


@pytest.mark.postgres
def test_a_kill_during_a_warehouse_load_keeps_the_previous_rows_and_a_rerun_repairs(
    settings, postgres_server, tmp_path, monkeypatch
):
    import psycopg

    server, password = postgres_server
    assert (server.database, server.user) == ("lakehouse", "lakehouse")
    schema = f"crash_{secrets.token_hex(4)}"
    monkeypatch.setenv(
        "LAKEHOUSE_CONF_DIR", str(postgres_conf(tmp_path / "conf", server.port, schema))
    )
    monkeypatch.setenv("LAKEHOUSE_WAREHOUSE_PASSWORD", password)
    landing.land(Path(settings.storage.landing), START, END)
    airlines = "key:silver/airlines or key:warehouse/airlines"
    result = materialize_range(START, END, selection=airlines)
    assert result.success, failure_messages(result)

    info = f"host=127.0.0.1 port={server.port} dbname=lakehouse user=lakehouse password={password}"
    test = psycopg.connect(info, autocommit=True)
    target = f"{schema}.airlines"

    def warehouse_rows() -> list[tuple[object, ...]]:
        return test.execute(f"SELECT * FROM {target} ORDER BY carrier").fetchall()

    before = warehouse_rows()
    assert len(before) == 16
    # The load's transaction is held open after its DELETE and INSERT, before its commit: a
    # statement trigger waits for an advisory lock this test holds; the load is killed there.
    test.execute(
        f"CREATE FUNCTION {schema}.hold() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_advisory_xact_lock(7013); RETURN NULL; END $$"
    )
    test.execute(
        f"CREATE TRIGGER hold AFTER INSERT ON {target} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.hold()"
    )
    test.execute("SELECT pg_advisory_lock(7013)")

    def inserted_and_waiting() -> list[tuple[int]]:
        return test.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'flights-lakehouse' "
            "AND query LIKE 'INSERT INTO%' AND wait_event_type = 'Lock'"
        ).fetchall()

    load = lakehouse("run", *RANGE, "--select", "key:warehouse/airlines")
    kill_when(load, lambda: bool(inserted_and_waiting()))
    assert warehouse_rows() == before  # readers never see the uncommitted load

    test.execute("SELECT pg_advisory_unlock(7013)")
    # The server notices the dead client when the statement ends and rolls back.
    deadline = time.monotonic() + 60
    while test.execute(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'flights-lakehouse'"
    ).fetchall():
        assert time.monotonic() < deadline, "the killed load's session never ended"
        time.sleep(0.1)
    assert warehouse_rows() == before
    test.execute(f"DROP TRIGGER hold ON {target}")

    finished(lakehouse("run", *RANGE, "--select", "key:warehouse/airlines"))
    assert warehouse_rows() == before  # as a clean load leaves it
    test.close()
