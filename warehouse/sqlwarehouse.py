"""DuckDB and PostgreSQL: a range is staged, then deleted and re-inserted in one transaction.

Readers see the old rows or the new rows of a range, never a mix; a failure anywhere in
the load rolls back to the previous contents.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from warehouse import sql
from warehouse.schema import ColumnDef, column_defs, plan_migration
from warehouse.tables import WarehouseTable

COPY_CHUNK_ROWS = 50_000
_LOG = logging.getLogger(__name__)
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")
_LOCK_POLL_SECONDS = 0.5


class WarehouseConnectionError(RuntimeError):
    """The warehouse cannot be reached or refused the credentials."""


@dataclass(frozen=True)
class LoadResult:
    """What one load did."""

    table: str
    rows_deleted: int
    rows_inserted: int
    seconds: float
    columns_added: tuple[str, ...] = ()


def utc_naive(table: pa.Table) -> pa.Table:
    """Drop the UTC zone from timestamp columns, keeping the instants.

    Warehouse columns are ``TIMESTAMP`` holding UTC; loading zone-aware values would let a
    client's local time zone shift them.
    """
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = table.column(index).cast(pa.timestamp(field.type.unit))
            table = table.set_column(index, pa.field(field.name, naive.type), naive)
    return table


def arrow_fields(table: pa.Table) -> list[tuple[str, str]]:
    """``(name, Spark simple type)`` of an Arrow table, for the type mapping."""
    names = {
        pa.types.is_date32: "date",
        pa.types.is_timestamp: "timestamp",
        pa.types.is_int32: "int",
        pa.types.is_int64: "bigint",
        pa.types.is_int16: "smallint",
        pa.types.is_float64: "double",
        pa.types.is_float32: "float",
        pa.types.is_string: "string",
        pa.types.is_large_string: "string",
        pa.types.is_boolean: "boolean",
    }
    fields = []
    for field in table.schema:
        kind = next((name for test, name in names.items() if test(field.type)), str(field.type))
        fields.append((field.name, kind))
    return fields


class SqlWarehouse:
    """Shared load algorithm; subclasses know how to connect and how to fill a stage."""

    backend: str

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self._held: Any = None

    # -- connection ---------------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[SqlWarehouse]:
        """One connection for every load, count and query until the block ends, then closed
        (what the Dagster warehouse resource holds for a run)."""
        if self._held is not None:
            raise RuntimeError("a warehouse session is already open")
        with self._open(read_only=False) as conn:
            self._held = conn
            try:
                yield self
            finally:
                self._held = None

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Any]:
        """The session's connection, or a new one for this operation alone."""
        if self._held is not None:
            yield self._held
            return
        with self._open(read_only) as conn:
            yield conn

    @contextmanager
    def _open(self, read_only: bool) -> Iterator[Any]:
        raise NotImplementedError

    def fill_stage_sql(self, stage: str, columns: list[str]) -> str:
        """The statement that fills the stage, as shown by ``--dry-run``."""
        raise NotImplementedError

    def _fill_stage(self, cursor: Any, stage: str, data: pa.Table) -> None:
        raise NotImplementedError

    def _transaction(
        self,
        spec: WarehouseTable,
        names: list[str],
        stage: str,
        start: dt.date | None,
        end: dt.date | None,
    ) -> list[str]:
        fill = self.fill_stage_sql(stage, names)
        return sql.load_transaction(self.backend, self.schema, spec, names, stage, start, end, fill)

    def plan(
        self,
        spec: WarehouseTable,
        columns: list[ColumnDef],
        start: dt.date | None,
        end: dt.date | None,
    ) -> list[str]:
        """Every statement a load would run, for ``--dry-run``; contacts nothing."""
        names = [c.name for c in columns]
        stage = sql.stage_name(spec, "<load id>")
        dimension = not spec.partitioned
        lock = sql.lock_schema_changes(self.backend, self.schema)
        return [
            *([lock] if lock else []),
            sql.create_schema(self.schema),
            sql.create_table(self.backend, self.schema, spec, columns),
            *([sql.create_loads_table(self.schema)] if dimension else []),
            "BEGIN",
            *self._transaction(spec, names, stage, start, end),
            *(sql.record_load(self.schema, spec.name, "<source>", "<rows>") if dimension else []),
            "COMMIT",
        ]

    # -- schema -------------------------------------------------------------------------
    def _existing(self, cursor: Any, table: str) -> dict[str, str]:
        cursor.execute(sql.existing_columns(self.schema, table))
        return {name: sql_type for name, sql_type in cursor.fetchall()}

    def ensure_table(
        self, cursor: Any, spec: WarehouseTable, columns: list[ColumnDef]
    ) -> list[str]:
        """Create the schema and table if absent; add new columns; refuse incompatible ones
        (under the schema's lock where the backend has one, held until the caller commits)."""
        lock = sql.lock_schema_changes(self.backend, self.schema)
        if lock:
            cursor.execute(lock)
        cursor.execute(sql.create_schema(self.schema))
        existing = self._existing(cursor, spec.name)
        if not existing:
            cursor.execute(sql.create_table(self.backend, self.schema, spec, columns))
            return []
        added = plan_migration(f"{self.schema}.{spec.name}", existing, columns)
        for column in added:
            cursor.execute(sql.add_column(self.schema, spec.name, column))
        return [c.name for c in added]

    # -- loading ------------------------------------------------------------------------
    def load(
        self,
        spec: WarehouseTable,
        data: pa.Table,
        start: dt.date | None = None,
        end: dt.date | None = None,
        source: str | None = None,
    ) -> LoadResult:
        """Replace ``[start, end]`` of ``spec`` (the whole table for a dimension) with ``data``.

        A dimension's load also records ``source`` (what ``data`` was read from, see
        :meth:`holds`) in the same transaction; None records that it is not known."""
        began = time.monotonic()
        data = utc_naive(data)
        columns = column_defs(self.backend, arrow_fields(data))
        names = [c.name for c in columns]
        stage = sql.stage_name(spec, uuid.uuid4().hex[:12])
        with self.connect() as conn:
            cursor = conn.cursor()
            added = self.ensure_table(cursor, spec, columns)
            if not spec.partitioned:
                cursor.execute(sql.create_loads_table(self.schema))
            conn.commit()  # DDL first, so a failed load never leaves a half-migrated table
            statements = self._transaction(spec, names, stage, start, end)
            try:
                counts = []
                for index, statement in enumerate(statements):
                    if index == 1:  # load_transaction puts the stage fill second
                        self._fill_stage(cursor, stage, data.select(names))
                    elif statement.startswith(("DELETE", "INSERT")):
                        counts.append(self._rowcount(cursor, statement))
                    else:
                        cursor.execute(statement)
                deleted, inserted = counts
                if not spec.partitioned:
                    for statement in sql.record_load(self.schema, spec.name, source, inserted):
                        cursor.execute(statement)
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
        return LoadResult(
            f"{self.schema}.{spec.name}",
            deleted,
            inserted,
            round(time.monotonic() - began, 2),
            tuple(added),
        )

    def _rowcount(self, cursor: Any, statement: str) -> int:
        cursor.execute(statement)
        return int(cursor.rowcount)

    def holds(self, spec: WarehouseTable, source: str) -> int | None:
        """The rows of dimension ``spec`` if its last load recorded ``source`` and the table
        still has as many rows as that load inserted; else None (it must be loaded). Asked
        just before a load, so it connects as the load will: for writing."""
        with self.connect() as conn:
            cursor = conn.cursor()
            if not self._existing(cursor, sql.LOADS_TABLE):
                return None
            cursor.execute(sql.loaded_source(self.schema, spec.name))
            recorded = cursor.fetchone()
            if recorded is None or recorded[0] != source:
                return None
            cursor.execute(sql.count_rows(self.schema, spec, None, None))
            rows = int(cursor.fetchone()[0])
            return rows if rows == int(recorded[1]) else None

    def count(self, spec: WarehouseTable, start: dt.date | None, end: dt.date | None) -> int:
        """Rows of ``spec`` in ``[start, end]`` (all rows for a dimension)."""
        with self.connect(read_only=True) as conn:
            cursor = conn.cursor()
            cursor.execute(sql.count_rows(self.schema, spec, start, end))
            return int(cursor.fetchone()[0])

    def query(self, statement: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a read-only query on a connection of its own; returns column names and rows."""
        with self._open(read_only=True) as conn:
            cursor = conn.cursor()
            cursor.execute(statement)
            names = [d[0] for d in cursor.description or []]
            return names, [tuple(r) for r in cursor.fetchall()]


class DuckDBWarehouse(SqlWarehouse):
    """An embedded DuckDB file: the local profile's warehouse, no server.

    DuckDB lets one process write a file (or several only read it), and refuses the others
    at once. Concurrent runs are serialized on that lock instead: a connection waits up to
    ``lock_wait_seconds`` for the holder to let go. The kernel releases the lock of a process
    that dies, even by SIGKILL, so a crashed run never leaves the warehouse locked (a slot in
    a Dagster pool would stay taken by an in-process run nobody monitors).
    """

    backend = "duckdb"

    def __init__(self, path: str, schema: str, lock_wait_seconds: float = 600) -> None:
        super().__init__(schema)
        self.path = path
        self.lock_wait_seconds = lock_wait_seconds

    def _connect(self, read_only: bool) -> Any:
        import duckdb

        deadline = time.monotonic() + self.lock_wait_seconds
        waiting = False
        while True:
            try:
                return duckdb.connect(self.path, read_only=read_only)
            except duckdb.IOException as exc:
                if "Could not set lock" not in str(exc):
                    raise
                holder = _LOCK_HOLDER.search(str(exc))
                who = f"PID {holder.group(1)}" if holder else "another process"
                if time.monotonic() >= deadline:
                    raise WarehouseConnectionError(
                        f"the DuckDB warehouse {self.path} is held by {who}, still after "
                        f"{self.lock_wait_seconds:g} s ([warehouse] lock_wait_seconds)"
                    ) from exc
                if not waiting:
                    _LOG.info("waiting for the DuckDB warehouse %s, held by %s", self.path, who)
                    waiting = True
                time.sleep(_LOCK_POLL_SECONDS)

    @contextmanager
    def _open(self, read_only: bool) -> Iterator[Any]:
        if read_only and not Path(self.path).exists():
            raise WarehouseConnectionError(f"no DuckDB warehouse at {self.path}: load it first")
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect(read_only)
        try:
            if not read_only:
                conn.begin()
            yield _DuckDBConnection(conn)
        finally:
            conn.close()

    def fill_stage_sql(self, stage: str, columns: list[str]) -> str:
        cols = ", ".join(sql.ident(c) for c in columns)
        return f"INSERT INTO {sql.ident(stage)} ({cols}) SELECT {cols} FROM load_source"

    def _fill_stage(self, cursor: Any, stage: str, data: pa.Table) -> None:
        cursor.raw.register("load_source", data)  # Arrow in place, no copy
        cursor.execute(self.fill_stage_sql(stage, data.column_names))
        cursor.raw.unregister("load_source")


class _DuckDBConnection:
    """DuckDB behind the small DB-API surface the load algorithm uses."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def cursor(self) -> _DuckDBCursor:
        return _DuckDBCursor(self.raw)

    def commit(self) -> None:
        self.raw.commit()
        self.raw.begin()

    def rollback(self) -> None:
        self.raw.rollback()
        self.raw.begin()


class _DuckDBCursor:
    def __init__(self, conn: Any) -> None:
        self.raw = conn
        self.rowcount = -1
        self.description: Any = None
        self._result: Any = None

    def execute(self, statement: str) -> None:
        self._result = self.raw.execute(statement)
        self.description = self._result.description
        upper = statement.lstrip().upper()
        if upper.startswith(("DELETE", "INSERT", "UPDATE")):
            row = self._result.fetchone()
            self.rowcount = int(row[0]) if row else 0

    def fetchone(self) -> Any:
        return self._result.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._result.fetchall())


class PostgresWarehouse(SqlWarehouse):
    """A PostgreSQL server (dev profile): bulk load through ``COPY FROM STDIN``."""

    backend = "postgres"

    def __init__(
        self, host: str, port: int, database: str, user: str, password_env: str, schema: str
    ) -> None:
        super().__init__(schema)
        self.host, self.port, self.database, self.user = host, port, database, user
        self.password_env = password_env

    @contextmanager
    def _open(self, read_only: bool) -> Iterator[Any]:
        import psycopg

        password = os.environ.get(self.password_env)  # read at use, never stored
        try:
            conn = psycopg.connect(
                host=self.host,
                port=self.port,
                dbname=self.database,
                user=self.user,
                password=password,
                connect_timeout=10,
                application_name="flights-lakehouse",
            )
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            hint = "" if password else f" ({self.password_env} is not set)"
            raise WarehouseConnectionError(
                f"cannot connect to PostgreSQL at {self.host}:{self.port}, database "
                f"{self.database!r} as {self.user!r}{hint}: {reason}"
            ) from exc
        try:
            conn.read_only = read_only
            yield conn
        finally:
            conn.close()

    def fill_stage_sql(self, stage: str, columns: list[str]) -> str:
        return sql.copy_stage_from_stdin(stage, columns)

    def _fill_stage(self, cursor: Any, stage: str, data: pa.Table) -> None:
        with cursor.copy(self.fill_stage_sql(stage, data.column_names)) as copy:
            for offset in range(0, max(data.num_rows, 1), COPY_CHUNK_ROWS):
                buffer = io.BytesIO()
                chunk = data.slice(offset, COPY_CHUNK_ROWS)
                options = pacsv.WriteOptions(include_header=offset == 0)
                pacsv.write_csv(chunk, buffer, write_options=options)
                copy.write(buffer.getvalue())
