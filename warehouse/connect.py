"""The one way to get the configured warehouse."""

from __future__ import annotations

from jobs.settings import DuckDBWarehouse as DuckDBSettings
from jobs.settings import PostgresWarehouse as PostgresSettings
from jobs.settings import Settings
from warehouse.sqlwarehouse import DuckDBWarehouse, PostgresWarehouse, SqlWarehouse


def sql_warehouse(settings: Settings) -> SqlWarehouse:
    """The DuckDB or PostgreSQL warehouse of ``settings`` (Redshift: warehouse.redshift)."""
    config = settings.warehouse
    if isinstance(config, DuckDBSettings):
        return DuckDBWarehouse(config.path, config.schema_name)
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
