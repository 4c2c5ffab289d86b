"""Each SQL warehouse backend, empty, for behaviour tests that must hold on both."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from warehouse.sqlwarehouse import DuckDBWarehouse, PostgresWarehouse, SqlWarehouse

PASSWORD_ENV = "LAKEHOUSE_TEST_PG_PASSWORD"


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
