"""A real PostgreSQL server for the warehouse tests, started once per test process."""

from __future__ import annotations

import secrets
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse import pgserver
from warehouse.sqlwarehouse import DuckDBWarehouse, PostgresWarehouse, SqlWarehouse

PASSWORD_ENV = "LAKEHOUSE_TEST_PG_PASSWORD"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[tuple[pgserver.PgServer, str]]:
    password = secrets.token_urlsafe(16)
    directory = Path(tempfile.mkdtemp(prefix="lakehouse-pg-"))
    server = pgserver.start(directory, _free_port(), password)
    yield server, password
    pgserver.stop(directory)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_warehouse(request, tmp_path, monkeypatch) -> Iterator[SqlWarehouse]:
    """An empty warehouse of each SQL backend (a fresh schema on the shared server)."""
    if request.param == "duckdb":
        yield DuckDBWarehouse(str(tmp_path / "warehouse.duckdb"), "gold")
        return
    server, password = request.getfixturevalue("postgres_server")
    monkeypatch.setenv(PASSWORD_ENV, password)
    schema = f"test_{secrets.token_hex(4)}"
    yield PostgresWarehouse(
        "127.0.0.1", server.port, server.database, server.user, PASSWORD_ENV, schema
    )
