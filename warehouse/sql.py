"""Every SQL statement the warehouse runs, rendered in one place.

Identifiers come from the table specs and the lakehouse schema and are always quoted;
dates are ``datetime.date`` values rendered as ISO literals, never user text.
"""

from __future__ import annotations

import datetime as dt

from warehouse.schema import Backend, ColumnDef
from warehouse.tables import WarehouseTable


def ident(name: str) -> str:
    """A quoted identifier."""
    if '"' in name or "\x00" in name:
        raise ValueError(f"refusing identifier {name!r}")
    return f'"{name}"'


def qualified(schema: str, table: str) -> str:
    return f"{ident(schema)}.{ident(table)}"


def _date(value: dt.date) -> str:
    return f"DATE '{dt.date.fromisoformat(value.isoformat())}'"


def create_schema(schema: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}"


def create_table(
    backend: Backend, schema: str, spec: WarehouseTable, columns: list[ColumnDef]
) -> str:
    body = ",\n  ".join(f"{ident(c.name)} {c.sql_type}" for c in columns)
    sql = f"CREATE TABLE IF NOT EXISTS {qualified(schema, spec.name)} (\n  {body}\n)"
    if backend == "redshift":
        style = f"DISTKEY({ident(spec.distkey)})" if spec.distkey else "DISTSTYLE ALL"
        sort = ", ".join(ident(c) for c in spec.sortkey)
        sql += f"\n{style}\nCOMPOUND SORTKEY({sort})"
    return sql


def add_column(schema: str, table: str, column: ColumnDef) -> str:
    return (
        f"ALTER TABLE {qualified(schema, table)} ADD COLUMN {ident(column.name)} {column.sql_type}"
    )


def stage_name(spec: WarehouseTable, load_id: str) -> str:
    """A per-load staging table, so concurrent loads never share one."""
    return f"stage_{spec.name}_{load_id}"


def create_stage(backend: Backend, schema: str, spec: WarehouseTable, stage: str) -> str:
    target = qualified(schema, spec.name)
    if backend == "duckdb":
        return f"CREATE TEMP TABLE {ident(stage)} AS SELECT * FROM {target} LIMIT 0"
    if backend == "postgres":
        return f"CREATE TEMP TABLE {ident(stage)} (LIKE {target}) ON COMMIT DROP"
    return f"CREATE TEMP TABLE {ident(stage)} (LIKE {target})"


def copy_stage_from_stdin(stage: str, columns: list[str]) -> str:
    cols = ", ".join(ident(c) for c in columns)
    return f"COPY {ident(stage)} ({cols}) FROM STDIN (FORMAT csv, HEADER true)"


def copy_stage_from_s3(stage: str, prefix: str, iam_role: str) -> str:
    return f"COPY {ident(stage)} FROM '{prefix}' IAM_ROLE '{iam_role}' FORMAT AS PARQUET"


def lock_schema_changes(backend: Backend, schema: str) -> str | None:
    """Serialize creating and migrating the tables of one schema across concurrent loads.

    PostgreSQL's ``CREATE ... IF NOT EXISTS`` looks in the catalog before inserting into it,
    so two first loads at once can both try to create the schema or the table, and one then
    fails on the catalog's unique index; the lock makes the second look after the first
    committed. (DuckDB has one writer; Redshift's loads take their own path.)
    """
    if backend == "postgres":
        return f"SELECT pg_advisory_xact_lock(hashtext('schema changes {schema}'))"
    return None


def lock_table(backend: Backend, schema: str, table: str) -> str | None:
    """Serialize the delete-and-insert of one table across concurrent loads.

    Under READ COMMITTED two overlapping range loads could each miss the other's fresh
    rows in their DELETE and duplicate them; taking the lock first rules that out.
    """
    if backend == "postgres":
        return f"SELECT pg_advisory_xact_lock(hashtext('{schema}.{table}'))"
    if backend == "redshift":
        return f"LOCK {qualified(schema, table)}"
    return None  # DuckDB has one writer per database file


def _range_filter(spec: WarehouseTable, start: dt.date | None, end: dt.date | None) -> str:
    """`` WHERE <date> BETWEEN ...`` for a partitioned table and a range, else nothing."""
    if spec.date_column is None or start is None or end is None:
        return ""
    return f" WHERE {ident(spec.date_column)} BETWEEN {_date(start)} AND {_date(end)}"


def delete_rows(
    schema: str, spec: WarehouseTable, start: dt.date | None, end: dt.date | None
) -> str:
    return f"DELETE FROM {qualified(schema, spec.name)}{_range_filter(spec, start, end)}"


def insert_from_stage(schema: str, spec: WarehouseTable, stage: str, columns: list[str]) -> str:
    cols = ", ".join(ident(c) for c in columns)
    return f"INSERT INTO {qualified(schema, spec.name)} ({cols}) SELECT {cols} FROM {ident(stage)}"


def count_rows(
    schema: str, spec: WarehouseTable, start: dt.date | None, end: dt.date | None
) -> str:
    return f"SELECT COUNT(*) FROM {qualified(schema, spec.name)}{_range_filter(spec, start, end)}"


def existing_columns(schema: str, table: str) -> str:
    """A table's columns and their types, in order (empty when the table is absent)."""
    ident(schema), ident(table)  # validated: they are spliced in as literals
    return (
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = '{table}' ORDER BY ordinal_position"
    )


# What each dimension was last loaded from (its lakehouse table's id and version), written in
# the load's own transaction, so a skipped reload can trust it (see SqlWarehouse.holds).
LOADS_TABLE = "_lakehouse_loads"


def _text(value: str) -> str:
    if "'" in value or "\x00" in value:
        raise ValueError(f"refusing literal {value!r}")
    return f"'{value}'"


def create_loads_table(schema: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified(schema, LOADS_TABLE)} (\n"
        "  table_name VARCHAR(128) NOT NULL,\n"
        "  source VARCHAR(256),\n"
        "  row_count BIGINT NOT NULL\n)"
    )


def record_load(schema: str, table: str, source: str | None, rows: int | str) -> list[str]:
    """Replace ``table``'s row of the loads table (``source`` None: loaded from no known
    version, so never skipped). ``rows`` is a count, or a placeholder for ``--dry-run``."""
    loads = qualified(schema, LOADS_TABLE)
    value = "NULL" if source is None else _text(source)
    return [
        f"DELETE FROM {loads} WHERE table_name = {_text(table)}",
        f"INSERT INTO {loads} (table_name, source, row_count) "
        f"VALUES ({_text(table)}, {value}, {rows})",
    ]


def loaded_source(schema: str, table: str) -> str:
    return (
        f"SELECT source, row_count FROM {qualified(schema, LOADS_TABLE)} "
        f"WHERE table_name = {_text(table)}"
    )


def load_transaction(
    backend: Backend,
    schema: str,
    spec: WarehouseTable,
    columns: list[str],
    stage: str,
    start: dt.date | None,
    end: dt.date | None,
    fill_stage: str,
) -> list[str]:
    """The statements of one load, in order, all inside one transaction.

    ``fill_stage`` is the backend's way to fill the stage (COPY from STDIN, from S3, or an
    INSERT from an in-memory Arrow table).
    """
    lock = lock_table(backend, schema, spec.name)
    return [
        create_stage(backend, schema, spec, stage),
        fill_stage,
        *([lock] if lock else []),
        delete_rows(schema, spec, start, end),
        insert_from_stage(schema, spec, stage, columns),
    ]
