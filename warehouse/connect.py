"""The one way to get the configured warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from jobs.settings import DuckDBWarehouse as DuckDBSettings
from jobs.settings import PostgresWarehouse as PostgresSettings
from jobs.settings import RedshiftWarehouse as RedshiftSettings
from jobs.settings import Settings
from warehouse.redshift import RedshiftClient
from warehouse.sqlwarehouse import DuckDBWarehouse, PostgresWarehouse, SqlWarehouse

Warehouse = SqlWarehouse | RedshiftClient


def sql_warehouse(settings: Settings) -> SqlWarehouse:
    """The DuckDB or PostgreSQL warehouse of ``settings`` (Redshift: warehouse.redshift)."""
    config = settings.warehouse
    if isinstance(config, DuckDBSettings):
        return DuckDBWarehouse(config.path, config.schema_name, config.lock_wait_seconds)
    if isinstance(config, PostgresSettings):
        return PostgresWarehouse(
            config.host,
            config.port,
            config.database,
            config.user,
            config.password_env,
            config.schema_name,
        )
    raise TypeError(f"{config.backend} is not a SQL-connection warehouse; use warehouse.redshift")


@contextmanager
def open_warehouse(settings: Settings) -> Iterator[Warehouse]:
    """The environment's warehouse, connected until the block ends: one DuckDB or
    PostgreSQL connection, or the Redshift Data API client (which holds no connection)."""
    if isinstance(settings.warehouse, RedshiftSettings):
        yield RedshiftClient(settings.warehouse)
        return
    with sql_warehouse(settings).session() as target:
        yield target
