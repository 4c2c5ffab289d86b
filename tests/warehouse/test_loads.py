"""Range loads into DuckDB and a real PostgreSQL server: idempotent, atomic, concurrent."""

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import pyarrow as pa
import pytest

from jobs.settings import REPO_ROOT
from warehouse import sql
from warehouse.schema import SchemaDriftError
from warehouse.sqlwarehouse import DuckDBWarehouse, PostgresWarehouse, WarehouseConnectionError
from warehouse.tables import WAREHOUSE_TABLES

ROUTES = WAREHOUSE_TABLES["route_daily"]
AIRLINES = WAREHOUSE_TABLES["airlines"]
D1, D2, D3 = dt.date(2013, 1, 1), dt.date(2013, 1, 2), dt.date(2013, 1, 3)


def routes(rows: list[tuple[dt.date, str, int]], **extra: list[object]) -> pa.Table:
    dates, origins, flights = zip(*rows, strict=True) if rows else ((), (), ())
    columns = {
        "flight_date": pa.array(dates, pa.date32()),
        "origin": pa.array(origins, pa.string()),
        "flights": pa.array(flights, pa.int32()),
        "updated": pa.array(
            [dt.datetime(2013, 1, 1, 10)] * len(rows), pa.timestamp("us", tz="UTC")
        ),
    }
    for name, values in extra.items():
        columns[name] = pa.array(values)
    return pa.table(columns)


def contents(warehouse, table="route_daily"):
    _, rows = warehouse.query(f'SELECT * FROM "{warehouse.schema}"."{table}" ORDER BY 1, 2')
    return rows


def test_loading_a_range_twice_leaves_the_same_rows(sql_warehouse):
    data = routes([(D1, "EWR", 3), (D2, "JFK", 4)])
    first = sql_warehouse.load(ROUTES, data, D1, D2)
    again = sql_warehouse.load(ROUTES, data, D1, D2)
    assert (first.rows_deleted, first.rows_inserted) == (0, 2)
    assert (again.rows_deleted, again.rows_inserted) == (2, 2)
    assert contents(sql_warehouse) == [
        (D1, "EWR", 3, dt.datetime(2013, 1, 1, 10)),
        (D2, "JFK", 4, dt.datetime(2013, 1, 1, 10)),
    ]


def test_a_load_replaces_exactly_its_range(sql_warehouse):
    sql_warehouse.load(ROUTES, routes([(D1, "EWR", 1), (D2, "EWR", 2), (D3, "EWR", 3)]), D1, D3)
    result = sql_warehouse.load(ROUTES, routes([(D2, "LGA", 20), (D2, "JFK", 21)]), D2, D2)
    assert (result.rows_deleted, result.rows_inserted) == (1, 2)
    assert [(r[0], r[1], r[2]) for r in contents(sql_warehouse)] == [
        (D1, "EWR", 1), (D2, "JFK", 21), (D2, "LGA", 20), (D3, "EWR", 3),
    ]  # fmt: skip
    assert sql_warehouse.count(ROUTES, D2, D2) == 2 and sql_warehouse.count(ROUTES, D1, D3) == 4


def test_a_dimension_is_replaced_whole(sql_warehouse):
    sql_warehouse.load(
        AIRLINES, pa.table({"carrier": ["AA", "UA"], "name": ["American", "United"]})
    )
    sql_warehouse.load(AIRLINES, pa.table({"carrier": ["UA"], "name": ["United Airlines"]}))
    assert contents(sql_warehouse, "airlines") == [("UA", "United Airlines")]


def test_a_dimension_is_held_while_its_source_and_row_count_are_the_recorded_ones(
    sql_warehouse,
):
    two = pa.table({"carrier": ["AA", "UA"], "name": ["American", "United"]})
    sql_warehouse.load(AIRLINES, two, source="table-1@v3")
    assert sql_warehouse.holds(AIRLINES, "table-1@v3") == 2
    assert sql_warehouse.holds(AIRLINES, "table-1@v4") is None  # a newer version
    assert sql_warehouse.holds(AIRLINES, "table-2@v3") is None  # a table recreated
    with sql_warehouse.connect() as conn:  # rows changed behind the loads' back
        conn.cursor().execute(
            f'DELETE FROM "{sql_warehouse.schema}"."airlines" WHERE carrier = \'UA\''
        )
        conn.commit()
    assert sql_warehouse.holds(AIRLINES, "table-1@v3") is None
    sql_warehouse.load(AIRLINES, two, source="table-1@v3")
    assert sql_warehouse.holds(AIRLINES, "table-1@v3") == 2
    sql_warehouse.load(AIRLINES, two)  # loaded from no known version: never held
    assert sql_warehouse.holds(AIRLINES, "table-1@v3") is None


def test_a_failed_dimension_load_keeps_the_recorded_source_with_the_old_rows(
    sql_warehouse, monkeypatch
):
    sql_warehouse.load(AIRLINES, pa.table({"carrier": ["AA"], "name": ["American"]}), source="t@v1")
    with monkeypatch.context() as patch, pytest.raises(Exception, match=r"(?i)no_such_table"):
        patch.setattr(sql, "insert_from_stage", lambda *a: "INSERT INTO no_such_table VALUES (1)")
        sql_warehouse.load(AIRLINES, pa.table({"carrier": ["UA"], "name": ["U"]}), source="t@v2")
    assert sql_warehouse.holds(AIRLINES, "t@v1") == 1 and not sql_warehouse.holds(AIRLINES, "t@v2")


def test_nothing_is_held_before_a_first_load(sql_warehouse):
    assert sql_warehouse.holds(AIRLINES, "t@v1") is None


def test_a_failure_between_delete_and_insert_keeps_the_old_rows(sql_warehouse, monkeypatch):
    sql_warehouse.load(ROUTES, routes([(D1, "EWR", 1)]), D1, D1)
    with monkeypatch.context() as patch, pytest.raises(Exception, match=r"(?i)no_such_table"):
        patch.setattr(sql, "insert_from_stage", lambda *a: "INSERT INTO no_such_table VALUES (1)")
        sql_warehouse.load(ROUTES, routes([(D1, "JFK", 99)]), D1, D1)
    assert [(r[0], r[1], r[2]) for r in contents(sql_warehouse)] == [(D1, "EWR", 1)]


def test_an_added_column_is_migrated_and_old_rows_get_nulls(sql_warehouse):
    sql_warehouse.load(ROUTES, routes([(D1, "EWR", 1)]), D1, D1)
    result = sql_warehouse.load(ROUTES, routes([(D2, "EWR", 2)], p90=[12.5]), D2, D2)
    assert result.columns_added == ("p90",)
    assert [(r[0], r[4]) for r in contents(sql_warehouse)] == [(D1, None), (D2, 12.5)]


def test_an_incompatible_change_fails_naming_the_column_and_writes_nothing(sql_warehouse):
    sql_warehouse.load(ROUTES, routes([(D1, "EWR", 1)]), D1, D1)
    changed = routes([(D1, "EWR", 1)]).set_column(2, "flights", pa.array(["one"]))
    with pytest.raises(SchemaDriftError, match=r"route_daily\.flights is"):
        sql_warehouse.load(ROUTES, changed, D1, D1)
    assert [(r[1], r[2]) for r in contents(sql_warehouse)] == [("EWR", 1)]


def test_queries_are_read_only(sql_warehouse):
    sql_warehouse.load(ROUTES, routes([(D1, "EWR", 1)]), D1, D1)
    with pytest.raises(Exception, match=r"(?i)read-only|read only"):
        sql_warehouse.query(f'DELETE FROM "{sql_warehouse.schema}"."route_daily"')
    assert sql_warehouse.count(ROUTES, D1, D1) == 1


@pytest.mark.postgres
def test_concurrent_loads_of_different_and_overlapping_ranges_lose_nothing(sql_warehouse):
    if sql_warehouse.backend != "postgres":
        pytest.skip("DuckDB allows one writing process: processes, below")
    sql_warehouse.load(ROUTES, routes([]), D1, D1)  # create the table first
    days = [D1 + dt.timedelta(days=n) for n in range(8)]
    errors: list[BaseException] = []

    def load(chunk: list[dt.date]) -> None:
        try:
            rows = [(d, origin, i) for d in chunk for i, origin in enumerate(["EWR", "JFK", "LGA"])]
            sql_warehouse.load(ROUTES, routes(rows), chunk[0], chunk[-1])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    chunks = [days[:4], days[4:], days[2:6], days[:4]]  # disjoint and overlapping ranges
    threads = [threading.Thread(target=load, args=(c,)) for c in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sql_warehouse.count(ROUTES, days[0], days[-1]) == 8 * 3
    assert len(set(contents(sql_warehouse))) == 8 * 3


def test_concurrent_first_loads_create_the_schema_and_table_once(sql_warehouse):
    """Loads racing into a warehouse that has neither the schema nor the table: PostgreSQL's
    ``CREATE ... IF NOT EXISTS`` alone lets two of them insert the same catalog row."""
    if sql_warehouse.backend != "postgres":
        pytest.skip("DuckDB allows one writing process")
    days = [D1 + dt.timedelta(days=n) for n in range(6)]
    barrier = threading.Barrier(len(days))
    errors: list[BaseException] = []

    def load(day: dt.date) -> None:
        try:
            barrier.wait()
            sql_warehouse.load(ROUTES, routes([(day, "EWR", 1), (day, "JFK", 2)]), day, day)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(day,)) for day in days]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sql_warehouse.count(ROUTES, days[0], days[-1]) == 2 * len(days)


# A load of whole days of ROUTES (three airports a day) in a process of its own.
LOAD_SCRIPT = """
import datetime as dt, sys
from tests.warehouse.test_loads import ROUTES, routes
from warehouse.sqlwarehouse import DuckDBWarehouse
days = [dt.date.fromisoformat(d) for d in sys.argv[3:]]
rows = [(d, o, i) for d in days for i, o in enumerate(["EWR", "JFK", "LGA"])]
warehouse = DuckDBWarehouse(sys.argv[1], "gold", float(sys.argv[2]))
warehouse.load(ROUTES, routes(rows), days[0], days[-1])
"""


def duckdb_load(path: str, days: list[dt.date], wait: float = 120) -> subprocess.Popen[str]:
    args = [sys.executable, "-c", LOAD_SCRIPT, path, str(wait), *(d.isoformat() for d in days)]
    return subprocess.Popen(
        args, cwd=REPO_ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip


def test_concurrent_duckdb_loads_from_processes_wait_for_the_file_and_lose_nothing(tmp_path):
    import duckdb

    path = str(tmp_path / "warehouse.duckdb")
    warehouse = DuckDBWarehouse(path, "gold")
    warehouse.load(ROUTES, routes([]), D1, D1)  # create the table first
    days = [D1 + dt.timedelta(days=n) for n in range(8)]
    holder = duckdb.connect(path)  # this process holds the one write lock for a while
    loads = [duckdb_load(path, c) for c in (days[:4], days[4:], days[2:6], days[:4])]
    time.sleep(3)
    assert [p.poll() for p in loads] == [None] * 4  # waiting, not failed
    holder.close()
    for load in loads:
        output, _ = load.communicate(timeout=120)
        assert load.returncode == 0, output
    assert warehouse.count(ROUTES, days[0], days[-1]) == 8 * 3
    assert len(set(contents(warehouse))) == 8 * 3


def test_a_duckdb_file_held_too_long_fails_naming_the_holder_and_the_setting(tmp_path):
    import duckdb

    path = str(tmp_path / "warehouse.duckdb")
    DuckDBWarehouse(path, "gold").load(ROUTES, routes([(D1, "EWR", 1)]), D1, D1)
    with duckdb.connect(path):
        output, _ = duckdb_load(path, [D1], wait=1).communicate(timeout=60)
    assert (
        f"is held by PID {os.getpid()}, still after 1 s ([warehouse] lock_wait_seconds)" in output
    )
    assert [r[1:3] for r in contents(DuckDBWarehouse(path, "gold"))] == [("EWR", 1)]


@pytest.mark.postgres
def test_an_unreachable_server_is_named_with_host_and_database(postgres_server, monkeypatch):
    server, password = postgres_server
    monkeypatch.setenv("PW", password)
    wrong = PostgresWarehouse("127.0.0.1", 1, server.database, server.user, "PW", "gold")
    with pytest.raises(WarehouseConnectionError, match=r"127\.0\.0\.1:1, database 'lakehouse'"):
        wrong.load(ROUTES, routes([(D1, "EWR", 1)]), D1, D1)


@pytest.mark.postgres
def test_bad_credentials_are_named_and_load_nothing(postgres_server, monkeypatch):
    server, _ = postgres_server
    monkeypatch.setenv("PW", "wrong")
    wrong = PostgresWarehouse("127.0.0.1", server.port, server.database, server.user, "PW", "gold")
    with pytest.raises(WarehouseConnectionError, match="password authentication failed"):
        wrong.load(ROUTES, routes([(D1, "EWR", 1)]), D1, D1)
