"""DDL derived from the lakehouse schema, with an explicit type mapping per backend."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Backend = str  # "duckdb" | "postgres" | "redshift"

# Spark SQL simple type name -> warehouse type. Timestamps are UTC instants stored without
# a zone (the lakehouse session time zone is UTC).
TYPE_MAP: dict[Backend, dict[str, str]] = {
    "duckdb": {
        "date": "DATE", "timestamp": "TIMESTAMP", "int": "INTEGER", "bigint": "BIGINT",
        "smallint": "SMALLINT", "double": "DOUBLE", "float": "REAL", "string": "VARCHAR",
        "boolean": "BOOLEAN",
    },
    "postgres": {
        "date": "DATE", "timestamp": "TIMESTAMP", "int": "INTEGER", "bigint": "BIGINT",
        "smallint": "SMALLINT", "double": "DOUBLE PRECISION", "float": "REAL", "string": "TEXT",
        "boolean": "BOOLEAN",
    },
    "redshift": {
        "date": "DATE", "timestamp": "TIMESTAMP", "int": "INTEGER", "bigint": "BIGINT",
        "smallint": "SMALLINT", "double": "DOUBLE PRECISION", "float": "REAL",
        "string": "VARCHAR(256)", "boolean": "BOOLEAN",
    },
}  # fmt: skip
# information_schema spellings -> the canonical names used above, for comparisons.
_CANONICAL = {
    "integer": "INTEGER", "int": "INTEGER", "int4": "INTEGER", "bigint": "BIGINT",
    "int8": "BIGINT", "smallint": "SMALLINT", "double precision": "DOUBLE PRECISION",
    "double": "DOUBLE", "float8": "DOUBLE PRECISION", "real": "REAL", "float": "REAL",
    "text": "TEXT", "varchar": "VARCHAR", "character varying": "VARCHAR", "date": "DATE",
    "timestamp": "TIMESTAMP", "timestamp without time zone": "TIMESTAMP", "boolean": "BOOLEAN",
    "bool": "BOOLEAN",
}  # fmt: skip


class SchemaDriftError(ValueError):
    """The lakehouse schema changed in a way the warehouse table cannot follow."""


@dataclass(frozen=True)
class ColumnDef:
    name: str
    sql_type: str


def column_defs(backend: Backend, fields: Iterable[tuple[str, str]]) -> list[ColumnDef]:
    """Warehouse columns for ``(name, spark simple type)`` pairs; unknown types are named."""
    mapping = TYPE_MAP[backend]
    columns = []
    for name, spark_type in fields:
        if spark_type not in mapping:
            raise SchemaDriftError(
                f"column {name!r} has Spark type {spark_type!r}, which has no {backend} mapping"
            )
        columns.append(ColumnDef(name, mapping[spark_type]))
    return columns


def canonical(sql_type: str) -> str:
    base = sql_type.strip().lower().split("(")[0].strip()
    return _CANONICAL.get(base, base.upper())


def plan_migration(
    table: str, existing: Mapping[str, str], desired: list[ColumnDef]
) -> list[ColumnDef]:
    """Columns to add so ``existing`` (name -> type) becomes ``desired``.

    An added column is migrated; a changed type or a column the lakehouse no longer has is
    refused, naming the column, before anything is written.
    """
    wanted = {c.name: c for c in desired}
    for name, sql_type in existing.items():
        if name not in wanted:
            raise SchemaDriftError(
                f"{table}.{name} exists in the warehouse but not in the lakehouse table; "
                "drop or rename it deliberately before loading"
            )
        if canonical(sql_type) != canonical(wanted[name].sql_type):
            raise SchemaDriftError(
                f"{table}.{name} is {sql_type} in the warehouse but the lakehouse now gives "
                f"{wanted[name].sql_type}: an incompatible change, nothing was loaded"
            )
    return [c for c in desired if c.name not in existing]
